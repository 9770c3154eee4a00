package memstore

import (
	"bytes"
	"math/rand/v2"
)

const maxLevel = 24

// skiplist is an ordered map from byte keys to byte values. It is not safe
// for concurrent use; the DB's lock guards it.
type skiplist struct {
	head  node
	level int
	rng   *rand.Rand
}

type node struct {
	key, value []byte
	next       [maxLevel]*node
}

func newSkiplist() *skiplist {
	return &skiplist{level: 1, rng: rand.New(rand.NewPCG(1, 2))}
}

// seek returns, per level, the last node whose key is < key.
func (l *skiplist) seek(key []byte, prev *[maxLevel]*node) *node {
	x := &l.head
	for i := l.level - 1; i >= 0; i-- {
		for x.next[i] != nil && bytes.Compare(x.next[i].key, key) < 0 {
			x = x.next[i]
		}
		if prev != nil {
			prev[i] = x
		}
	}
	return x.next[0]
}

func (l *skiplist) get(key []byte) ([]byte, bool) {
	n := l.seek(key, nil)
	if n != nil && bytes.Equal(n.key, key) {
		return n.value, true
	}
	return nil, false
}

// set stores key and returns the previous value, if any.
func (l *skiplist) set(key, value []byte) (old []byte, existed bool) {
	var prev [maxLevel]*node
	n := l.seek(key, &prev)
	if n != nil && bytes.Equal(n.key, key) {
		old, n.value = n.value, value
		return old, true
	}
	lvl := 1
	for lvl < maxLevel && l.rng.Uint32()&3 == 0 {
		lvl++
	}
	for i := l.level; i < lvl; i++ {
		prev[i] = &l.head
	}
	if lvl > l.level {
		l.level = lvl
	}
	n = &node{key: key, value: value}
	for i := range lvl {
		n.next[i] = prev[i].next[i]
		prev[i].next[i] = n
	}
	return nil, false
}

// remove deletes key and returns its value, if it existed.
func (l *skiplist) remove(key []byte) (old []byte, existed bool) {
	var prev [maxLevel]*node
	n := l.seek(key, &prev)
	if n == nil || !bytes.Equal(n.key, key) {
		return nil, false
	}
	for i := range l.level {
		if prev[i].next[i] == n {
			prev[i].next[i] = n.next[i]
		}
	}
	return n.value, true
}

// ascend calls fn for keys >= start in order until fn returns false.
func (l *skiplist) ascend(start []byte, fn func(n *node) bool) {
	for n := l.seek(start, nil); n != nil; n = n.next[0] {
		if !fn(n) {
			return
		}
	}
}
