package server

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// adminRoutes mounts the admin API under /api/admin, behind the admin
// token. Without a configured token every admin route answers 404: the
// admin API is off.
func (s *Server) adminRoutes(e *echo.Echo) {
	g := e.Group("/api/admin", s.requireAdmin)
	g.GET("/rooms", s.adminRooms)
	g.GET("/rooms/:id", s.adminRoom)
	g.DELETE("/rooms/:id", s.adminDelete)
	g.POST("/rooms/:id/close", s.adminClose)
	g.POST("/rooms/:id/kick", s.adminKick)
	g.POST("/rooms/:id/spectate", s.adminSpectate)
}

func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.AdminToken == "" {
			return apiError(http.StatusNotFound, "not_found", "the admin API is off: start the server with TICKROOM_ADMIN_TOKEN set")
		}
		got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="tickroom admin"`)
			return apiError(http.StatusUnauthorized, "unauthorized", "admin token missing or wrong (send Authorization: Bearer TOKEN)")
		}
		return next(c)
	}
}

// adminRoomInfo is a room as the monitor shows it. Counters are
// cumulative: the monitor page turns them into rates.
type adminRoomInfo struct {
	rooms.RoomInfo
	Spectators   int     `json:"spectators"`
	AgeSeconds   float64 `json:"ageSeconds"`
	TickP99Ms    float64 `json:"tickP99Ms"`
	LastTickMs   float64 `json:"lastTickMs"`
	Ticks        uint64  `json:"ticks"`
	LateTicks    uint64  `json:"lateTicks"`
	DeltaBytes   uint64  `json:"deltaBytes"`
	Snapshots    uint64  `json:"snapshots"`
	SlowClosed   uint64  `json:"slowClosed"`
	Inputs       uint64  `json:"inputs"`
	Recording    bool    `json:"recording"`
	ServerTimeMs int64   `json:"serverTimeMs"`
}

func adminInfo(r *rooms.Room, now time.Time) adminRoomInfo {
	st := r.Stats()
	return adminRoomInfo{
		RoomInfo: r.Info(), Spectators: r.Spectators(), AgeSeconds: now.Sub(r.CreatedAt).Seconds(),
		TickP99Ms:  float64(st.TickTime.Quantile(0.99)) / 1e6,
		LastTickMs: float64(st.TickNanos.Load()) / 1e6,
		Ticks:      st.Ticks.Load(), LateTicks: st.LateTicks.Load(), DeltaBytes: st.BytesOut.Load(),
		Snapshots: st.Snapshots.Load(), SlowClosed: st.SlowClosed.Load(), Inputs: st.InputsIn.Load(),
		Recording: r.Recording(), ServerTimeMs: now.UnixMilli(),
	}
}

// adminRooms lists the live rooms with their counters, or with
// ?state=dormant the sleeping ones (public and unlisted), most recently
// active first, up to ?limit= (default 100, at most 10000).
func (s *Server) adminRooms(c echo.Context) error {
	switch c.QueryParam("state") {
	case "", "live":
	case "dormant":
		limit, err := queryLimit(c, 100, 10000)
		if err != nil {
			return err
		}
		list, err := s.rooms.Stored(limit)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, list)
	default:
		return apiError(http.StatusBadRequest, "bad_request", "state: want live or dormant")
	}
	now := time.Now()
	all := s.rooms.All()
	out := make([]adminRoomInfo, 0, len(all))
	for _, r := range all {
		out = append(out, adminInfo(r, now))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) adminFind(c echo.Context) (*rooms.Room, error) {
	id := c.Param("id")
	r := s.rooms.Get(id)
	if r == nil {
		if o := s.rooms.Owner(); o != nil {
			if node, addr, ok := o.Whois(id); ok {
				return nil, roomLookupError(&rooms.OwnedError{Room: id, Node: node, Addr: addr})
			}
		}
		return nil, apiError(http.StatusNotFound, "not_found", "no open room with this id")
	}
	return r, nil
}

func (s *Server) adminRoom(c echo.Context) error {
	r, err := s.adminFind(c)
	if err != nil {
		return err
	}
	members, err := r.Members(2 * time.Second)
	if err != nil {
		return roomBusy(err)
	}
	return c.JSON(http.StatusOK, struct {
		adminRoomInfo
		Members []state.MemberInfo `json:"members"`
	}{adminInfo(r, time.Now()), members})
}

func roomBusy(err error) error {
	if errors.Is(err, rooms.ErrRoomClosed) {
		return apiError(http.StatusNotFound, "not_found", "the room closed")
	}
	return apiError(http.StatusServiceUnavailable, "room_busy", "the room did not answer in time")
}

func (s *Server) adminClose(c echo.Context) error {
	r, err := s.adminFind(c)
	if err != nil {
		return err
	}
	s.log.Info("admin closed room", "room", r.ID, "remote", c.RealIP())
	r.Close(rooms.CloseRoomClosed, "room closed by an administrator")
	return c.NoContent(http.StatusNoContent)
}

// adminDelete ends a room's life, live or asleep: members are closed, its
// row and checkpoints deleted; its recording stays (delete it separately).
func (s *Server) adminDelete(c echo.Context) error {
	id := c.Param("id")
	if err := s.rooms.Delete(id, "room deleted by an administrator"); err != nil {
		if errors.Is(err, rooms.ErrRoomBusy) {
			return apiError(http.StatusConflict, "busy", "the room is waking or going to sleep; try again")
		}
		return roomLookupError(err)
	}
	s.log.Info("admin deleted room", "room", id, "remote", c.RealIP())
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) adminKick(c echo.Context) error {
	r, err := s.adminFind(c)
	if err != nil {
		return err
	}
	var req struct {
		Member uint32 `json:"member"`
	}
	if err := c.Bind(&req); err != nil || req.Member == 0 {
		return apiError(http.StatusBadRequest, "bad_request", `body must be {"member": N}`)
	}
	if err := r.Kick(req.Member); err != nil {
		return roomBusy(err)
	}
	s.log.Info("admin kicked member", "room", r.ID, "member", req.Member, "remote", c.RealIP())
	return c.NoContent(http.StatusNoContent)
}

// adminSpectate mints a short-lived spectator link for the monitor's view
// (of a sleeping room too: opening it wakes the room).
func (s *Server) adminSpectate(c echo.Context) error {
	info, err := s.rooms.Lookup(c.Param("id"))
	if err != nil {
		return roomLookupError(err)
	}
	q := s.links.query(info.ID, RoleSpectator, 10*time.Minute, time.Now())
	return c.JSON(http.StatusOK, map[string]string{"wsUrl": "/ws/" + info.ID + "?" + q, "url": "/r/" + info.ID + "?" + q})
}
