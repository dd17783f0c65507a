// Package assets holds the built browser client and the static pages, embedded
// into the binary so that the server needs no Node.js at run time. The bundle in
// dist/ is built by `npm run build` (client/build.mjs) and committed; `make test`
// rebuilds it and fails when the committed copy differs.
package assets

import "embed"

// FS holds index.html, the built bundle under dist/, and the other static files.
//
//go:embed index.html dist
var FS embed.FS
