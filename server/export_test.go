package server

// IOUringUsed reports whether ticks went out through io_uring: a ring was
// made and none broke (Config.IOUring).
func (s *Server) IOUringUsed() bool {
	return s.batch != nil && s.batch.pool.made.Load() > 0 && !s.batch.pool.broken.Load()
}
