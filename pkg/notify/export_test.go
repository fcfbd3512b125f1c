package notify

// ForceAddfd makes sessions answer injected fds as on a kernel with
// (send) or without SECCOMP_ADDFD_FLAG_SEND, and returns the undo.
func ForceAddfd(send bool) (restore func()) {
	old := addfdLevel.Load()
	if send {
		addfdLevel.Store(addfdSend)
	} else {
		addfdLevel.Store(addfdOnly)
	}
	return func() { addfdLevel.Store(old) }
}
