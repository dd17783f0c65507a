package server

// IOUringAvailable reports whether a ring can be set up on this machine,
// so that the end-to-end io_uring test fails, not skips, where it can run.
func IOUringAvailable() bool {
	b := newRingPool(1, nil).get()
	if b == nil {
		return false
	}
	if b.r != nil {
		b.r.close()
	}
	return true
}
