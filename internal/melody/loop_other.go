//go:build !linux

package melody

// eventLoop is Linux's (epoll); elsewhere every session is read by a
// goroutine (Session.readBlocking).
type eventLoop struct{}

func loop() *eventLoop                          { return nil }
func (l *eventLoop) add(*Session) bool          { return false }
func (l *eventLoop) remove(*Session)            {}
func (l *eventLoop) kill(s *Session, err error) {}
