// Package assets holds the built browser client and the static pages, embedded
// into the binary so that the server needs no Node.js at run time. The bundle in
// dist/ is built by `npm run build` (client/build.mjs) and committed; `make test`
// rebuilds it and fails when the committed copy differs.
package assets

import "embed"

// FS holds the pages (index.html, bench.html) and the built bundle under dist/.
//
//go:embed *.html all:dist
var FS embed.FS
