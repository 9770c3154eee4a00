package client

import (
	"context"
	"time"
)

// SetClock replaces the client's clock and sleep for tests.
func SetClock(c *Client, now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) {
	if now != nil {
		c.now = now
	}
	if sleep != nil {
		c.sleep = sleep
	}
}

// CachedAccessToken returns the cached access token ("" when none).
func CachedAccessToken(c *Client) string {
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	if c.ts.tok == nil {
		return ""
	}
	return c.ts.tok.access.Reveal()
}

// CachedRefreshToken returns the cached refresh token ("" when none).
func CachedRefreshToken(c *Client) string {
	c.ts.mu.Lock()
	defer c.ts.mu.Unlock()
	if c.ts.tok == nil {
		return ""
	}
	return c.ts.tok.refresh.Reveal()
}
