package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// handoffFile is the name of the handoff file in the -handoff directory.
const handoffFile = "handoff.json"

// handoffVersion guards against a successor of another format.
const handoffVersion = 1

type handoffDoc struct {
	Version int                 `json:"version"`
	Written time.Time           `json:"written"`
	Rooms   []rooms.HandoffRoom `json:"rooms"`
}

// decodeHandoff reads a handoff file strictly: it comes from disk, so it is
// treated like any untrusted input (FuzzDecodeHandoff).
func decodeHandoff(b []byte) (*handoffDoc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc handoffDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("handoff: decode: %w", err)
	}
	if dec.More() {
		return nil, errors.New("handoff: decode: data after the document")
	}
	if doc.Version != handoffVersion {
		return nil, fmt.Errorf("handoff: version %d, this build reads %d", doc.Version, handoffVersion)
	}
	for i, r := range doc.Rooms {
		switch {
		case r.ID == "" || r.Type == "" || r.RecordingID == "":
			return nil, fmt.Errorf("handoff: room %d: id, type and recordingId are required", i)
		case r.MaxPlayers < 1:
			return nil, fmt.Errorf("handoff: room %s: maxPlayers %d", r.ID, r.MaxPlayers)
		}
		for _, s := range r.Seats {
			if s.Member == 0 || s.Token == "" || s.Member > r.NextMember {
				return nil, fmt.Errorf("handoff: room %s: bad seat %+v", r.ID, s)
			}
		}
	}
	return &doc, nil
}

// writeHandoff hands every room off and writes the handoff file atomically
// (temporary file, fsync, rename).
func writeHandoff(ctx context.Context, dir string, mgr *rooms.Manager, code int, reason string, log *slog.Logger) error {
	out, err := mgr.Handoff(ctx, code, reason)
	if err != nil {
		log.Error("handoff: some rooms did not stop in time", "err", err)
	}
	b, jerr := json.MarshalIndent(handoffDoc{Version: handoffVersion, Written: time.Now(), Rooms: out}, "", " ")
	if jerr != nil {
		return fmt.Errorf("handoff: encode: %w", jerr)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	tmp, err := os.CreateTemp(dir, handoffFile+".*")
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("handoff: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("handoff: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("handoff: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, handoffFile)); err != nil {
		return fmt.Errorf("handoff: rename: %w", err)
	}
	log.Info("handed off rooms", "rooms", len(out), "file", filepath.Join(dir, handoffFile))
	return nil
}

// restoreHandoff restores the rooms of a handoff file left by a previous
// process, then renames the file so that it is used once.
func restoreHandoff(dir string, mgr *rooms.Manager, store *tape.Store, log *slog.Logger) error {
	path := filepath.Join(dir, handoffFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if store == nil {
		return errors.New("handoff: restoring rooms needs recording on (-record)")
	}
	doc, err := decodeHandoff(b)
	if err != nil {
		return err
	}
	restored := 0
	for _, h := range doc.Rooms {
		if err := restoreRoom(h, mgr, store); err != nil {
			log.Error("room not restored", "room", h.ID, "err", err)
			continue
		}
		restored++
	}
	done := fmt.Sprintf("%s.used-%d", path, time.Now().Unix())
	if err := os.Rename(path, done); err != nil {
		return fmt.Errorf("handoff: mark used: %w", err)
	}
	log.Info("restored rooms from handoff", "restored", restored, "of", len(doc.Rooms), "written", doc.Written)
	return nil
}

func restoreRoom(h rooms.HandoffRoom, mgr *rooms.Manager, store *tape.Store) error {
	r, err := store.Open(h.RecordingID)
	if err != nil {
		return err
	}
	defer r.Close()
	walk := func(fn func(uint64, []rooms.Op) error) error {
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if rec.Kind != tape.KindOps && rec.Kind != tape.KindDelta {
				continue
			}
			ops, err := rec.DecodeOps()
			if err != nil {
				return err
			}
			if err := fn(rec.Tick, ops); err != nil {
				return err
			}
		}
	}
	_, err = mgr.Restore(h, walk)
	return err
}
