package engine

import (
	"context"
	"errors"
	"time"

	"github.com/licensekit/licensekit/store"
)

// TokenActivity is when, and from where, a user token was last used.
type TokenActivity struct {
	LastUsedAt   time.Time `json:"last_used_at,omitzero"`
	LastUsedAddr string    `json:"last_used_addr,omitempty"`
}

// TokenActivity returns the last use of each of the tenant's user tokens
// named in ids: the store's usage records merged with what this engine saw
// since its last flush, without flushing (so a page that lists tokens
// costs reads, not writes). Tokens never used, or of another tenant, are
// absent from the map. It is guarded by the rule of ListUserTokens (admins,
// the system, tokens:edit). At most store.MaxPageLimit ids.
func (e *Engine) TokenActivity(ctx context.Context, actor Actor, tenantID string, ids []string) (map[string]TokenActivity, error) {
	if err := e.authorize(ctx, actor, tenantID, OpListUserTokens); err != nil {
		return nil, err
	}
	if len(ids) > store.MaxPageLimit {
		return nil, invalidInput("at most %d token ids", store.MaxPageLimit)
	}
	out := make(map[string]TokenActivity, len(ids))
	err := e.st.View(ctx, func(tx store.Tx) error {
		usage := tx.Tenant(tenantID).Usage()
		for _, id := range ids {
			rec, err := usage.Get(ctx, id)
			switch {
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
				continue
			case err != nil:
				return err
			}
			out[id] = TokenActivity{LastUsedAt: rec.LastUsedAt, LastUsedAddr: rec.LastUsedAddr}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if at, addr := e.recentUse(tenantID, id); at.After(out[id].LastUsedAt) {
			out[id] = TokenActivity{LastUsedAt: at, LastUsedAddr: addr}
		}
	}
	return out, nil
}

// recentUse is this engine's unflushed view of the token's last use, for
// a token of tenantID; zero if it saw none.
func (e *Engine) recentUse(tenantID, id string) (time.Time, string) {
	t := e.cachedToken(id)
	if t == nil || t.tenantID != tenantID {
		return time.Time{}, ""
	}
	n := t.use.lastUsed.Load()
	if n == 0 {
		return time.Time{}, ""
	}
	return clockFrom(time.Unix(0, n)), addrString(t.use.address())
}
