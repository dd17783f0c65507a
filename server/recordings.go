package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tickroom/tickroom/rooms/tape"
)

// recordingRoutes serves the recordings store: listing, metadata, the raw
// tape (with Range requests, up to the last complete frame, so recordings
// in progress download too), and deletion for administrators.
func (s *Server) recordingRoutes(e *echo.Echo) {
	g := e.Group("/api/recordings", s.requireRecordings)
	g.GET("", s.listRecordings)
	g.GET("/:id", s.getRecording)
	g.GET("/:id/tape", s.getTape)
	g.DELETE("/:id", s.deleteRecording, s.requireAdmin)
}

func (s *Server) requireRecordings(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Recordings == nil {
			return apiError(http.StatusNotFound, "not_found", "recording is off on this server")
		}
		return next(c)
	}
}

// recordingInfo is a recording as the API shows it.
type recordingInfo struct {
	ID              string    `json:"id"`
	RoomID          string    `json:"roomId"`
	Type            string    `json:"type"`
	TickRate        int       `json:"tickRate"`
	StartedAt       time.Time `json:"startedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	SizeBytes       int64     `json:"sizeBytes"`
	Members         []string  `json:"members"`
	InProgress      bool      `json:"inProgress"`
	Keyframes       int       `json:"keyframes"`
	FirstTick       uint64    `json:"firstTick"`
	LastTick        uint64    `json:"lastTick"`
	Damaged         bool      `json:"damaged"`
}

func infoOf(e tape.Entry) recordingInfo {
	members := e.Members
	if members == nil {
		members = []string{}
	}
	return recordingInfo{ID: e.ID, RoomID: e.RoomID, Type: e.Type, TickRate: e.TickRate, StartedAt: e.StartedAt,
		DurationSeconds: e.Duration.Seconds(), SizeBytes: e.Size, Members: members, InProgress: e.InProgress,
		Keyframes: e.Keyframes, FirstTick: e.FirstTick, LastTick: e.LastTick, Damaged: e.Damaged}
}

func (s *Server) listRecordings(c echo.Context) error {
	all, err := s.cfg.Recordings.List()
	if err != nil {
		return err
	}
	out := make([]recordingInfo, len(all))
	for i, e := range all {
		out[i] = infoOf(e)
	}
	return c.JSON(http.StatusOK, out)
}

func recordingErr(err error) error {
	if errors.Is(err, tape.ErrNotFound) {
		return apiError(http.StatusNotFound, "not_found", "no recording with this id")
	}
	return err
}

func (s *Server) getRecording(c echo.Context) error {
	e, err := s.cfg.Recordings.Get(c.Param("id"))
	if err != nil {
		return recordingErr(err)
	}
	return c.JSON(http.StatusOK, infoOf(e))
}

// getTape serves the tape bytes up to the end of its last good frame, with
// Range support (http.ServeContent).
func (s *Server) getTape(c echo.Context) error {
	id := c.Param("id")
	f, _, err := s.cfg.Recordings.Tape(id)
	if err != nil {
		return recordingErr(err)
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+id+tape.Ext+`"`)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, f)
	return nil
}

func (s *Server) deleteRecording(c echo.Context) error {
	if err := s.cfg.Recordings.Delete(c.Param("id")); err != nil {
		if errors.Is(err, tape.ErrInProgress) {
			return apiError(http.StatusConflict, "in_progress", "the recording is still being written; close its room first")
		}
		if errors.Is(err, tape.ErrInUse) {
			return apiError(http.StatusConflict, "in_use", "the recording is the log of a room that still exists (it may be asleep); delete the room first")
		}
		return recordingErr(err)
	}
	s.log.Info("recording deleted", "recording", c.Param("id"), "remote", c.RealIP())
	return c.NoContent(http.StatusNoContent)
}
