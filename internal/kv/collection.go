package kv

import (
	"context"
	"fmt"

	"github.com/licensekit/licensekit/store"
)

// collection implements store.Collection for one kind of tenant record.
// Kinds with secondary indexes or owned data supply hooks.
type collection[T any] struct {
	s      *scope
	kind   string
	idOf   func(*T) string
	tenant func(*T) *string
	// index, when set, maintains the kind's indexes for a change from old
	// to new (old nil: create; new nil: delete). It runs before the record
	// is written and may refuse the change.
	index func(old, new *T) error
}

func (c collection[T]) Create(ctx context.Context, rec T) error {
	if err := c.prepare(ctx, &rec); err != nil {
		return err
	}
	k := c.s.recordKey(c.kind, c.idOf(&rec))
	ok, err := c.s.exists(k)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: %s %q", store.ErrAlreadyExists, c.kind, c.idOf(&rec))
	}
	if c.index != nil {
		if err := c.index(nil, &rec); err != nil {
			return err
		}
	}
	return c.put(k, &rec)
}

func (c collection[T]) prepare(ctx context.Context, rec *T) error {
	if err := c.s.check(ctx); err != nil {
		return err
	}
	if err := checkIDs(c.s.tenantID, c.idOf(rec)); err != nil {
		return err
	}
	return c.s.claim(c.tenant(rec))
}

func (c collection[T]) put(k []byte, rec *T) error {
	b, err := encode(rec)
	if err != nil {
		return err
	}
	return c.s.txn.Set(k, b)
}

func (c collection[T]) Get(ctx context.Context, id string) (T, error) {
	var rec T
	if err := c.s.check(ctx); err != nil {
		return rec, err
	}
	if err := checkIDs(c.s.tenantID, id); err != nil {
		return rec, err
	}
	b, err := c.s.txn.Get(c.s.recordKey(c.kind, id))
	if err != nil {
		return rec, fmt.Errorf("%w: %s %q", err, c.kind, id)
	}
	err = decode(b, &rec)
	return rec, err
}

func (c collection[T]) Update(ctx context.Context, rec T) error {
	if err := c.prepare(ctx, &rec); err != nil {
		return err
	}
	old, err := c.Get(ctx, c.idOf(&rec))
	if err != nil {
		return err
	}
	if c.index != nil {
		if err := c.index(&old, &rec); err != nil {
			return err
		}
	}
	return c.put(c.s.recordKey(c.kind, c.idOf(&rec)), &rec)
}

func (c collection[T]) Delete(ctx context.Context, id string) error {
	old, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if c.index != nil {
		if err := c.index(&old, nil); err != nil {
			return err
		}
	}
	return c.s.txn.Delete(c.s.recordKey(c.kind, id))
}

func (c collection[T]) List(ctx context.Context, page store.Page) ([]T, string, error) {
	return c.list(ctx, page, nil)
}

func (c collection[T]) list(ctx context.Context, page store.Page, keep func(*T) bool) ([]T, string, error) {
	if err := c.s.check(ctx); err != nil {
		return nil, "", err
	}
	if err := checkIDs(c.s.tenantID); err != nil {
		return nil, "", err
	}
	return scanFiltered(c.s.txn, dirKey(pfxRecord, c.s.tenantID, c.kind), page, c.idOf, keep)
}
