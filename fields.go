package detect

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/expr-lang/expr/ast"
)

// fieldSet is the set of top-level field names that expressions read. A
// nil *fieldSet stands for "any field".
type fieldSet struct {
	names []string
	// lengths has bit n set when a name of n bytes (n < 63) is in the
	// set, bit 63 for longer names; keys of other lengths are rejected
	// without comparing them. Only when every name is ASCII: a name with
	// other letters may equal, ignoring case, a key of another length.
	lengths  uint64
	nonASCII bool
	// byLen holds the names ordered by length, those of n bytes (n < 64)
	// from byLen[start[n]] to byLen[start[n+1]], so that a key is only
	// compared with the names of its length.
	byLen []string
	start [65]uint8
	// byLenIndex holds the place in names of each name of byLen, and
	// byLenWords the same place with the bytes of the name, when it is
	// shorter than shortLen, as the decoder reads them (see padded).
	byLenIndex []uint8
	byLenWords []nameWords
	// ids holds each name's fieldID, in the order of names; slotOf[id]
	// is the place of the name numbered id plus one, 0 for other names
	// (for ids below maxSlotOf only).
	ids    []uint32
	slotOf []uint8
	// wide tells that the last event decoded into slots for these
	// fields needed a wide first slab (see boxes).
	wide atomic.Bool
}

// nameWords is a name of a fieldSet as two words, with its place.
type nameWords struct {
	w    [2]uint64
	slot uint8
}

// maxSlotOf bounds the table from field numbers to places in a set.
const maxSlotOf = 1 << 12

// fieldIDs numbers the top-level field names that expressions read, once
// per process, so that a compiled read finds its field among a rule's
// slots by comparing numbers.
var fieldIDs struct {
	sync.Mutex
	m map[string]uint32
}

// fieldID returns the number of a top-level field name.
func fieldID(name string) uint32 {
	fieldIDs.Lock()
	defer fieldIDs.Unlock()
	id, ok := fieldIDs.m[name]
	if !ok {
		if fieldIDs.m == nil {
			fieldIDs.m = map[string]uint32{}
		}
		id = uint32(len(fieldIDs.m))
		fieldIDs.m[name] = id
	}
	return id
}

// newFieldSet returns the set of names.
func newFieldSet(names ...string) *fieldSet {
	s := &fieldSet{}
	for _, n := range names {
		s.add(n)
	}
	return s
}

// add adds name to the set.
func (s *fieldSet) add(name string) {
	if contains(s.names, name) {
		return
	}
	s.names = append(s.names, name)
	id := fieldID(name)
	s.ids = append(s.ids, id)
	switch {
	case len(s.names) >= 1<<8:
		// Too many names for the table: slots never hold so many.
		s.slotOf = nil
	case id < maxSlotOf:
		if int(id) >= len(s.slotOf) {
			s.slotOf = append(s.slotOf, make([]uint8, int(id)+1-len(s.slotOf))...)
		}
		s.slotOf[id] = uint8(len(s.names))
	}
	s.lengths |= 1 << min(len(name), 63)
	s.nonASCII = s.nonASCII || !isASCII(name)
	if n := len(name); n < 64 && len(s.byLen) < 1<<8-1 {
		i := int(s.start[n+1])
		s.byLen = append(s.byLen, "")
		copy(s.byLen[i+1:], s.byLen[i:])
		s.byLen[i] = name
		s.byLenIndex = append(s.byLenIndex, 0)
		copy(s.byLenIndex[i+1:], s.byLenIndex[i:])
		s.byLenIndex[i] = uint8(len(s.names) - 1)
		w := nameWords{slot: uint8(len(s.names) - 1)}
		if n < shortLen {
			w.w = padded([]byte(name))
		}
		s.byLenWords = append(s.byLenWords, nameWords{})
		copy(s.byLenWords[i+1:], s.byLenWords[i:])
		s.byLenWords[i] = w
		for j := n + 1; j < len(s.start); j++ {
			s.start[j]++
		}
	}
}

// has reports whether key may be read: names are compared ignoring case,
// since a name reads a key of any case when no exact key exists.
func (s *fieldSet) has(key string) bool {
	for _, n := range s.names {
		if strings.EqualFold(n, key) {
			return true
		}
	}
	return false
}

// match reports whether the key held in bytes, which must be ASCII, may
// be read; when a name is the key exactly, it returns that name, so that
// the key needs no string of its own.
func (s *fieldSet) match(key []byte) (exact string, ok bool) {
	if !s.nonASCII {
		if s.lengths&(1<<min(len(key), 63)) == 0 {
			return "", false
		}
		if n := len(key); n < 64 && len(s.byLen) == len(s.names) {
			same := s.byLen[s.start[n]:s.start[n+1]]
			for _, name := range same {
				if name == string(key) {
					return name, true
				}
			}
			for _, name := range same {
				if asciiEqualFold(name, key) {
					return "", true
				}
			}
			return "", false
		}
	}
	for _, n := range s.names {
		if len(n) == len(key) && asciiEqualFold(n, key) {
			if n == string(key) {
				exact = n
			}
			ok = true
		} else if s.nonASCII && len(n) != len(key) && !isASCII(n) && strings.EqualFold(n, string(key)) {
			ok = true
		}
		if exact != "" {
			return exact, true
		}
	}
	return "", ok
}

// asciiEqualFold compares an ASCII key with a name, ignoring case as
// strings.EqualFold does: for ASCII only letters fold, except that 'k' and
// 's' also match the Kelvin sign and long s, which are not ASCII.
func asciiEqualFold(name string, key []byte) bool {
	for i := 0; i < len(key); i++ {
		a, b := name[i], key[i]
		if a == b {
			continue
		}
		if a >= 0x80 {
			return strings.EqualFold(name, string(key))
		}
		if a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z' {
			return false
		}
	}
	return true
}

// union merges sets; nil (any field) absorbs everything.
func union(sets ...*fieldSet) *fieldSet {
	out := &fieldSet{}
	for _, s := range sets {
		if s == nil {
			return nil
		}
		for _, n := range s.names {
			out.add(n)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// topLevelReads returns the top-level fields a rewritten expression reads,
// or nil when it uses the event in any other way ($env on its own, a
// computed field name).
func topLevelReads(root ast.Node) *fieldSet {
	set := &fieldSet{}
	dynamic := false
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil || dynamic {
			return
		}
		if c, ok := n.(*ast.CallNode); ok {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && (id.Value == fnGet && len(c.Arguments) == 2 || id.Value == fnGetCost && len(c.Arguments) == 3) {
				if env, ok := c.Arguments[0].(*ast.IdentifierNode); ok && env.Value == "$env" {
					if s, ok := c.Arguments[1].(*ast.StringNode); ok {
						set.add(s.Value)
						return
					}
					dynamic = true
					return
				}
			}
		}
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == "$env" {
			dynamic = true
			return
		}
		for _, child := range children(n) {
			walk(child)
		}
	}
	walk(root)
	if dynamic {
		return nil
	}
	return set
}

// lentReads returns the top-level fields of a rewritten expression that
// it only compares with nil or reads constant keys from (user != nil,
// user.name), each with the set of keys read from it: their values never
// become part of the expression's result, so that they may be decoded as
// those keys alone, for the length of an evaluation.
func lentReads(root ast.Node) map[string]*fieldSet {
	safe := map[ast.Node]bool{}
	keys := map[string]*fieldSet{}
	unsafe := map[string]bool{}
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if n == nil {
			return
		}
		if name, ok := envRead(n); ok {
			if !safe[n] {
				unsafe[name] = true
			} else if keys[name] == nil {
				keys[name] = &fieldSet{}
			}
			return
		}
		switch n := n.(type) {
		case *ast.CallNode:
			if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == fnGet && len(n.Arguments) == 2 {
				if k, ok := n.Arguments[1].(*ast.StringNode); ok {
					if name, ok := envRead(n.Arguments[0]); ok {
						safe[n.Arguments[0]] = true
						if keys[name] == nil {
							keys[name] = &fieldSet{}
						}
						keys[name].add(k.Value)
					}
				}
			}
		case *ast.BinaryNode:
			if n.Operator == "==" || n.Operator == "!=" {
				if _, isNil := n.Right.(*ast.NilNode); isNil {
					safe[n.Left] = true
				}
				if _, isNil := n.Left.(*ast.NilNode); isNil {
					safe[n.Right] = true
				}
			}
		}
		for _, child := range children(n) {
			walk(child)
		}
	}
	walk(root)
	for name := range unsafe {
		delete(keys, name)
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// envRead returns the name of the field that n reads when n is the read
// of a constant top-level field.
func envRead(n ast.Node) (string, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok || len(c.Arguments) != 2 {
		return "", false
	}
	if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != fnGet {
		return "", false
	}
	if env, ok := c.Arguments[0].(*ast.IdentifierNode); !ok || env.Value != "$env" {
		return "", false
	}
	s, ok := c.Arguments[1].(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

// children lists the direct children of a node.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return n.Arguments
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		return n.Pairs
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}

// decodeSelected decodes the top-level fields of a JSON object that fields
// may read, and passes over the rest without decoding it. Every key that
// matches a name ignoring case is kept, so field lookups give the same
// answers as on the whole event.
func decodeSelected(data []byte, fields *fieldSet) (map[string]any, error) {
	m, err := decodeFast(data, fields)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// envPool holds the maps that events are decoded into for one evaluation.
var envPool = sync.Pool{New: func() any { return make(map[string]any, 8) }}

// maxPooledEnv is the most fields a map may hold to go back to the pool.
const maxPooledEnv = 64

// decodeTransient is decodeSelected into a map from a pool, for an
// evaluation whose results cannot hold the map itself: fields is not nil,
// so no expression reads the event as a whole. releaseEnv returns the map
// when the evaluation is over; the values in it are never reused.
func decodeTransient(data []byte, fields *fieldSet) (map[string]any, error) {
	if fields == nil {
		return decodeSelected(data, fields)
	}
	m := envPool.Get().(map[string]any)
	m, err := decodeFastInto(data, fields, m)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// releaseEnv returns a map from decodeTransient to the pool, emptied.
func releaseEnv(m map[string]any, fields *fieldSet) {
	if fields == nil || m == nil || len(m) > maxPooledEnv {
		return
	}
	clear(m)
	envPool.Put(m)
}
