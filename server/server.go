// Package server is tickroom's HTTP and WebSocket edge: Echo routes, the
// melody hookup, the JSON API and the embedded client. It translates between
// the network and rooms/; it owns no game state.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tickroom/tickroom/internal/melody"

	"github.com/tickroom/tickroom/rooms"
)

// maxBody is the largest request body any route reads.
const maxBody = "64K"

// Server is the HTTP handler of one tickroom node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	rooms    *rooms.Manager
	echo     *echo.Echo
	melody   *melody.Melody
	sessions sync.WaitGroup
	conns    sync.Map // *wsConn -> struct{}: every open session, for shutdown
	metrics  *metrics
	links    *linkSigner
	perIP    *perIP
	draining atomic.Bool
	batch    *tickBatcher // with Config.IOUring
}

// New builds the server over a room manager.
func New(mgr *rooms.Manager, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger, rooms: mgr}
	s.metrics = newMetrics(mgr, cfg.Collectors...)
	s.links = newLinkSigner(cfg.LinkSecret)
	s.perIP = newPerIP(cfg.RoomCreateRate, cfg.RoomCreateBurst)
	s.melody = s.newMelody()
	if cfg.IOUring {
		s.batch = newTickBatcher(newRingPool(runtime.GOMAXPROCS(0), func(err error) {
			s.log.Warn("io_uring is off: ticks are written with write(2)", "err", err)
		}))
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(middleware.Recover())
	// No route takes a body over 64 KiB (the API's own limit, which the
	// admin routes lacked): past it, 413 too_large.
	e.Use(middleware.BodyLimit(maxBody))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "DENY",
		ReferrerPolicy:     "same-origin",
		// Scripts only from this server (the embedded bundle); the page may
		// talk only to its own origin (API and WebSocket); no framing.
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
			"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
	}))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURI: true, LogStatus: true, LogLatency: true, LogError: true,
		HandleError: true, // log the status the error handler answers, not 200
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			lvl := slog.LevelDebug
			if v.Status >= 500 {
				lvl = slog.LevelError
			}
			s.log.Log(c.Request().Context(), lvl, "request", "method", v.Method, "uri", v.URI,
				"status", v.Status, "latency", v.Latency, "err", v.Error)
			return nil
		},
	}))
	s.routes(e)
	s.echo = e
	return s
}

func (s *Server) routes(e *echo.Echo) {
	api := e.Group("/api", middleware.BodyLimit("64K"))
	api.POST("/rooms", s.createRoom)
	api.GET("/rooms", s.listRooms)
	api.GET("/rooms/:id", s.getRoom)
	api.GET("/types", s.listTypes)
	e.GET("/ws/:id", s.handleWS)
	s.adminRoutes(e)
	s.recordingRoutes(e)
	// Liveness: the process serves HTTP. /healthz is the older name.
	live := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	e.GET("/livez", live)
	e.GET("/healthz", live)
	e.GET("/readyz", func(c echo.Context) error {
		if s.draining.Load() {
			return c.String(http.StatusServiceUnavailable, "draining")
		}
		if s.cfg.Cluster != nil && !s.cfg.Cluster.Connected() {
			return c.String(http.StatusServiceUnavailable, "no NATS connection")
		}
		return c.String(http.StatusOK, "ready")
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	if s.cfg.Pprof {
		e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprofHandler)))
	}
	s.pageRoutes(e)
}

// pprofHandler serves net/http/pprof's pages under /debug/pprof/.
func pprofHandler(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
}

// Drain marks the server as going away: /readyz answers 503 and no new
// rooms are created, while open rooms carry on until they are closed.
func (s *Server) Drain() { s.draining.Store(true) }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.bodyDeadline(w, r)
	s.echo.ServeHTTP(w, r)
}

// CloseSessions closes every WebSocket session still open with the code and
// reason and waits, until ctx ends, for their handlers to return. Rooms close
// their members themselves; this catches connections that never got seated.
// (melody's own close-all is not used: it races with sessions that end at
// the same moment and can leave one blocked for ever.)
func (s *Server) CloseSessions(ctx context.Context, code int, reason string) error {
	s.conns.Range(func(k, _ any) bool {
		k.(*wsConn).Close(code, reason)
		return true
	})
	done := make(chan struct{})
	go func() {
		s.sessions.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: close sessions: %w", ctx.Err())
	}
}

// httpError is the JSON error every API failure answers with.
type httpError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *httpError) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, message string) error {
	return &httpError{status: status, Code: code, Message: message}
}

// handleError is the one place that maps errors to HTTP responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *httpError
	var ee *echo.HTTPError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &ee):
		he = &httpError{status: ee.Code, Code: codeForStatus(ee.Code), Message: fmt.Sprint(ee.Message)}
	default:
		s.log.Error("request failed", "uri", c.Request().RequestURI, "err", err)
		he = &httpError{status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	s.metrics.httpErrors.WithLabelValues(he.Code).Inc()
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(he.status) // the client is gone if this fails; nothing left to do
		return
	}
	_ = c.JSON(he.status, he) // as above
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}

// Stopping is the cancel cause that tells Serve how to close members: 1012
// (restart: come back soon) or 1001 (going away). Any other cause means 1001.
type Stopping struct {
	Code   int
	Reason string
}

func (s *Stopping) Error() string { return fmt.Sprintf("stopping (%d %s)", s.Code, s.Reason) }

// Serve runs the HTTP server until ctx ends, then shuts down in order: mark
// draining (/readyz 503), stop accepting, close rooms (members get a closing
// event and the close code of ctx's *Stopping cause), close any other
// session, all within grace.
// stopRooms closes (or hands off) every room with the code and reason.
func Serve(ctx context.Context, srv *http.Server, s *Server, stopRooms func(ctx context.Context, code int, reason string) error,
	grace time.Duration, serve func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	stop := &Stopping{Code: rooms.CloseGoingAway, Reason: "server going away"}
	if cause := (*Stopping)(nil); errors.As(context.Cause(ctx), &cause) {
		stop = cause
	}
	s.Drain()
	s.log.Info("shutting down", "code", stop.Code, "reason", stop.Reason, "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("server: http shutdown: %w", err))
	}
	if err := stopRooms(sctx, stop.Code, stop.Reason); err != nil {
		errs = append(errs, err)
	}
	if err := s.CloseSessions(sctx, stop.Code, stop.Reason); err != nil {
		errs = append(errs, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("server: serve: %w", err))
	}
	return errors.Join(errs...)
}
