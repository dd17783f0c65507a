package tape_test

import (
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/storetest"
	"github.com/tickroom/tickroom/rooms/tape"
)

// TestStoreIsALogStore: a tape.Store passes the rooms' log conformance suite.
func TestStoreIsALogStore(t *testing.T) {
	storetest.Logs(t, func(t *testing.T) rooms.LogStore {
		s, err := tape.NewStore(t.TempDir(), tape.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
