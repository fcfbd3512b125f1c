package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"go.uber.org/zap"

	"github.com/fgacd/fgacd/pkg/notify"
)

// sessionStore keeps listeners across restarts: each session's listener
// goes into systemd's fd store (FDSTORE=1, named session-…), and its
// identity into a record file under the state directory, so a restarted
// fgacd serves the same sessions with the same profiles. A listener whose
// record is missing is served deny-only.
//
// Fd ownership: the store never owns a session's fd; systemd keeps its own
// copy. Records are files owned by root, mode 0600.
type sessionStore struct {
	dir string
	nt  *notifier
	log *zap.Logger
}

func newSessionName() string {
	var b [8]byte
	rand.Read(b[:])
	return sessionFdPrefix + hex.EncodeToString(b[:])
}

func (st *sessionStore) record(name string) string { return filepath.Join(st.dir, name+".json") }

// started stores a new session's listener and identity (adopted sessions
// are in the store already).
func (st *sessionStore) started(s *notify.Session) {
	if !st.nt.enabled() || s.StoreName != "" {
		return
	}
	name := newSessionName()
	if err := st.writeRecord(name, s.Identity); err != nil {
		st.log.Warn("session record not written; after a restart this session is served deny-only", zap.Error(err))
	}
	if err := st.nt.storeFd(name, s.Fd()); err != nil {
		st.log.Warn("listener not kept in systemd's fd store; a restart ends this session", zap.Error(err))
		os.Remove(st.record(name))
		return
	}
	s.StoreName = name
}

// ended forgets a session whose tracees are gone; one closed by shutdown
// stays in the store for the next fgacd.
func (st *sessionStore) ended(s *notify.Session, gone bool) {
	if !gone || s.StoreName == "" {
		return
	}
	st.forget(s.StoreName)
}

// forget takes a session out of the store: its fd and its record.
func (st *sessionStore) forget(name string) {
	st.nt.removeFd(name)
	os.Remove(st.record(name))
}

// adopt serves the listeners systemd passed back, with their identities.
func (st *sessionStore) adopt(srv *notify.Server, fds map[string]int) {
	names := make([]string, 0, len(fds))
	for n := range fds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var id notify.Identity
		b, err := os.ReadFile(st.record(name))
		if err == nil {
			err = json.Unmarshal(b, &id)
		}
		if err != nil {
			id = notify.Identity{Unknown: true}
			st.log.Warn("listener kept without its identity record: serving it deny-only",
				zap.String("name", name), zap.Error(err))
		}
		if err := srv.Adopt(fds[name], id, name); err != nil {
			st.log.Warn("kept listener not adopted", zap.String("name", name), zap.Error(err))
			st.forget(name)
			continue
		}
	}
	if len(names) > 0 {
		st.log.Info("sessions kept across the restart adopted", zap.Int("count", len(names)))
	}
}

// prune removes records whose listener did not come back.
func (st *sessionStore) prune(kept map[string]int) {
	ents, err := os.ReadDir(st.dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if filepath.Ext(name) != ".json" {
			continue
		}
		if _, ok := kept[name[:len(name)-len(".json")]]; !ok {
			os.Remove(filepath.Join(st.dir, name))
		}
	}
}

// writeRecord writes a session's identity record.
func (st *sessionStore) writeRecord(name string, id notify.Identity) error {
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(st.record(name), b, 0o600)
}
