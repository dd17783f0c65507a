package server

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tickroom/tickroom/assets"
)

// pageRoutes serves the embedded client: one page for the lobby, rooms and
// replays (the client routes on the path), the bundle under /dist/, and the
// renderer benchmark page when it was built.
func (s *Server) pageRoutes(e *echo.Echo) {
	serveIndex := echo.StaticFileHandler("index.html", assets.FS)
	index := func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return serveIndex(c)
	}
	serveBench := echo.StaticFileHandler("bench.html", assets.FS)
	e.GET("/", index)
	e.GET("/r/:id", index)
	e.GET("/replay/:id", index)
	e.GET("/replays", index)
	e.GET("/admin", index)
	e.GET("/bench/render", func(c echo.Context) error {
		if _, err := fs.Stat(assets.FS, "bench.html"); err != nil {
			return apiError(http.StatusNotFound, "not_found", "the renderer benchmark page is not built into this binary")
		}
		return serveBench(c)
	})
	dist, err := fs.Sub(assets.FS, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees dist/ exists
	}
	fileServer := http.StripPrefix("/dist/", http.FileServer(http.FS(dist)))
	e.GET("/dist/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}
