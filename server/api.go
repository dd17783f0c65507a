package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tickroom/tickroom/rooms"
)

// createRoomRequest is the body of POST /api/rooms.
type createRoomRequest struct {
	Type       string         `json:"type"`
	Options    map[string]any `json:"options"`
	Visibility string         `json:"visibility"` // public (default) or unlisted
	MaxPlayers int            `json:"maxPlayers"` // 0: the type's default
	// Record asks for the room to be recorded or not; absent: the server's
	// default (on unless started with -record=false).
	Record *bool `json:"record"`
}

type createRoomResponse struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	ShareURL string `json:"shareUrl"`
	// SpectateURL is a signed view-only link to the same room.
	SpectateURL string `json:"spectateUrl"`
	WSURL       string `json:"wsUrl"`
	Visibility  string `json:"visibility"`
	MaxPlayers  int    `json:"maxPlayers"`
	// Durable says whether the room outlives an empty spell (it sleeps and
	// wakes on the next join) and a restart or crash of the server. A room
	// not recorded ("record": false) is durable when its type keeps
	// checkpoints; otherwise it closes when idle.
	Durable bool `json:"durable"`
}

func (s *Server) createRoom(c echo.Context) error {
	var req createRoomRequest
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return err // a body over the limit that came without a Content-Length
		}
		return apiError(http.StatusBadRequest, "bad_request", "body must be a JSON object {type, options, visibility, maxPlayers}: "+err.Error())
	}
	if s.draining.Load() {
		return apiError(http.StatusServiceUnavailable, "shutting_down", "this server is shutting down; create the room on another one")
	}
	if !s.perIP.allowCreate(c.RealIP(), time.Now()) {
		c.Response().Header().Set("Retry-After", "10")
		return apiError(http.StatusTooManyRequests, "too_many_requests", "too many rooms created from your address; wait a little")
	}
	if req.Visibility == "" {
		req.Visibility = "public"
	}
	if req.Visibility != "public" && req.Visibility != "unlisted" {
		return apiError(http.StatusBadRequest, "bad_request", fmt.Sprintf("visibility %q: want public or unlisted", req.Visibility))
	}
	r, err := s.rooms.Create(rooms.CreateRequest{Type: req.Type, Options: req.Options, Public: req.Visibility == "public",
		MaxPlayers: req.MaxPlayers, Record: req.Record})
	switch {
	case errors.Is(err, rooms.ErrUnknownType):
		return apiError(http.StatusBadRequest, "unknown_type", fmt.Sprintf("%v; types: %v", err, s.typeNames()))
	case errors.Is(err, rooms.ErrBadOptions):
		return apiError(http.StatusBadRequest, "bad_options", err.Error())
	case errors.Is(err, rooms.ErrBadRequest):
		return apiError(http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, rooms.ErrRoomLimit):
		return apiError(http.StatusServiceUnavailable, "room_limit", "this server has as many rooms as it may hold; try again later")
	case errors.Is(err, rooms.ErrStopped):
		return apiError(http.StatusServiceUnavailable, "shutting_down", "this server is shutting down")
	case errors.Is(err, rooms.ErrStorage):
		s.log.Error("room not created", "err", err)
		return apiError(http.StatusServiceUnavailable, "storage", "the room could not be stored on this server; try again later")
	case err != nil:
		return fmt.Errorf("create room: %w", err)
	}
	info := r.Info()
	return c.JSON(http.StatusCreated, createRoomResponse{
		ID: r.ID, Type: info.Type, ShareURL: "/r/" + r.ID, WSURL: "/ws/" + r.ID,
		SpectateURL: "/r/" + r.ID + "?" + s.links.query(r.ID, RoleSpectator, s.cfg.SpectateLinkTTL, time.Now()),
		Visibility:  info.Visibility, MaxPlayers: info.MaxPlayers, Durable: r.Durable(),
	})
}

// listRooms lists the public rooms: live ones first, then up to ?limit=
// (default 100, at most 1000) sleeping ones, most recently active first.
func (s *Server) listRooms(c echo.Context) error {
	limit, err := queryLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	list, err := s.rooms.List(limit)
	if err != nil {
		s.log.Error("list sleeping rooms", "err", err) // the live ones are still worth showing
	}
	return c.JSON(http.StatusOK, list)
}

// queryLimit reads ?limit=N in 1..most, def when absent.
func queryLimit(c echo.Context, def, most int) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, apiError(http.StatusBadRequest, "bad_request", fmt.Sprintf("limit %q: want a number in 1..%d", v, most))
	}
	return n, nil
}

// getRoom describes a room, live or asleep, without waking it.
func (s *Server) getRoom(c echo.Context) error {
	info, err := s.rooms.Lookup(c.Param("id"))
	if err != nil {
		return roomLookupError(err)
	}
	return c.JSON(http.StatusOK, info)
}

// roomLookupError maps why a room cannot be found or opened to an answer.
func roomLookupError(err error) error {
	var gone *rooms.TypeGoneError
	var owned *rooms.OwnedError
	switch {
	case errors.As(err, &owned):
		return apiError(http.StatusConflict, "elsewhere", fmt.Sprintf("the room runs on another node of the cluster, %s: send this request there", owned.Addr))
	case errors.As(err, &gone):
		return apiError(http.StatusGone, "type_gone", fmt.Sprintf("this room is a %q room, and this server no longer has that room type; it is kept in case the type comes back", gone.Type))
	case errors.Is(err, rooms.ErrNotFound):
		return apiError(http.StatusNotFound, "not_found", "no room with this id: it may have closed or expired")
	case errors.Is(err, rooms.ErrStopped):
		return apiError(http.StatusServiceUnavailable, "shutting_down", "this server is shutting down")
	case errors.Is(err, rooms.ErrRoomLimit):
		return apiError(http.StatusServiceUnavailable, "room_limit", "this server has as many rooms open as it may hold; try again later")
	}
	return fmt.Errorf("look up room: %w", err)
}

type typeInfo struct {
	Name          string `json:"name"`
	TickRate      int    `json:"tickRate"`
	MaxPlayers    int    `json:"maxPlayers"`
	Deterministic bool   `json:"deterministic"`
}

func (s *Server) listTypes(c echo.Context) error {
	all := s.rooms.Types().All()
	out := make([]typeInfo, len(all))
	for i, t := range all {
		out[i] = typeInfo{Name: t.Name, TickRate: t.TickRate, MaxPlayers: t.PlayerLimit(), Deterministic: t.Deterministic}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) typeNames() []string {
	var names []string
	for _, t := range s.rooms.Types().All() {
		names = append(names, t.Name)
	}
	return names
}
