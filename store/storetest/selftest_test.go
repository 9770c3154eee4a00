package storetest_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/licensekit/licensekit/store"
	"github.com/licensekit/licensekit/store/memstore"
	"github.com/licensekit/licensekit/store/storetest"
)

// TestDurableEmulation runs the suite, Durability cases included, against
// memstores that outlive Close: opening a directory again gives back the
// data of the store last opened there. It shows that the Durability cases
// pass against a backend that keeps everything.
func TestDurableEmulation(t *testing.T) {
	var (
		mu    sync.Mutex
		byDir = map[string]*memstore.Store{}
	)
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T, dir string) store.Store {
			mu.Lock()
			defer mu.Unlock()
			m, ok := byDir[dir]
			if !ok {
				m = memstore.New()
				byDir[dir] = m
			}
			return &keptStore{m: m}
		},
		Durable: true,
	})
}

// keptStore is a handle on a memstore that Close detaches from without
// closing the memstore.
type keptStore struct {
	m      *memstore.Store
	closed atomic.Bool
}

func (s *keptStore) View(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return s.m.View(ctx, fn)
}

func (s *keptStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return s.m.Update(ctx, fn)
}

func (s *keptStore) Close() error {
	s.closed.Store(true)
	return nil
}
