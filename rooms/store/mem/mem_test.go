package mem_test

import (
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/mem"
	"github.com/tickroom/tickroom/rooms/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Directory(t, func(*testing.T) rooms.Directory { return mem.New() })
	storetest.Checkpoints(t, func(*testing.T) rooms.CheckpointStore { return mem.New() })
	storetest.Logs(t, func(*testing.T) rooms.LogStore { return mem.New() })
}
