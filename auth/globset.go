package auth

// A request can act on a domain whose name is not known: the task of a
// task token whose run is gone (see Resource.AnyDomain). Whether a
// statement's Resource patterns match such a domain is then a question
// about every name at once: do they match the domain's ARN whatever the
// name (everyName), or for some name (someName)? Both are answered on the
// patterns read together as one nondeterministic automaton over runes, as
// Match reads one pattern: '*' matches any run of characters, '?' one
// character, anything else itself (and so does a '*' or '?' a policy
// variable put there: see matchLit).

// The runes that stand for the wildcards in globSet.pats; a literal '*' or
// '?' is itself.
const (
	wildStar rune = -1
	wildOne  rune = -2
)

// globSet is the automaton of a set of patterns. Its states are the
// positions in the patterns: state base[k]+i is "pattern k matched up to
// its i-th rune"; base[k]+len(pats[k]) is pattern k matched whole.
type globSet struct {
	pats [][]rune
	base []int
	pat  []int // each state's pattern
	pos  []int // each state's position in it
	// lits are the runes the patterns name literally: any rune not among
	// them moves the automaton as every other such rune does.
	lits []rune
}

// newGlobSet returns the automaton of patterns; lits, if not nil, marks in
// each pattern the bytes that are literal (see matchLit).
func newGlobSet(patterns []string, lits [][]bool) *globSet {
	g := &globSet{}
	seen := map[rune]bool{}
	for k, p := range patterns {
		var rs []rune
		for i, r := range p {
			literal := lits != nil && lits[k] != nil && lits[k][i]
			switch {
			case r == '*' && !literal:
				r = wildStar
			case r == '?' && !literal:
				r = wildOne
			}
			rs = append(rs, r)
		}
		g.pats = append(g.pats, rs)
		g.base = append(g.base, len(g.pat))
		for i := 0; i <= len(rs); i++ {
			g.pat, g.pos = append(g.pat, k), append(g.pos, i)
		}
		for _, r := range rs {
			if r != wildStar && r != wildOne && !seen[r] {
				seen[r] = true
				g.lits = append(g.lits, r)
			}
		}
	}
	return g
}

// stateSet is a set of states, one bool per state.
type stateSet []bool

func (g *globSet) empty() stateSet { return make(stateSet, len(g.pat)) }

// add puts pattern k at position i into set, with the positions a '*'
// there lets it reach without consuming anything.
func (g *globSet) add(set stateSet, k, i int) {
	for {
		id := g.base[k] + i
		if set[id] {
			return
		}
		set[id] = true
		if i == len(g.pats[k]) || g.pats[k][i] != wildStar {
			return
		}
		i++
	}
}

// start is the set before any rune is read.
func (g *globSet) start() stateSet {
	set := g.empty()
	for k := range g.pats {
		g.add(set, k, 0)
	}
	return set
}

// step reads one rune r; other says it is a rune no pattern names (r is
// then ignored).
func (g *globSet) step(set stateSet, r rune, other bool) stateSet {
	next := g.empty()
	for id, in := range set {
		if !in {
			continue
		}
		k, i := g.pat[id], g.pos[id]
		if i == len(g.pats[k]) {
			continue
		}
		switch c := g.pats[k][i]; {
		case c == wildStar:
			g.add(next, k, i)
		case c == wildOne || !other && c == r:
			g.add(next, k, i+1)
		}
	}
	return next
}

func (g *globSet) read(set stateSet, s string) stateSet {
	for _, r := range s {
		set = g.step(set, r, false)
	}
	return set
}

// accepts reports whether set has matched some pattern whole.
func (g *globSet) accepts(set stateSet) bool {
	for id, in := range set {
		if in && g.pos[id] == len(g.pats[g.pat[id]]) {
			return true
		}
	}
	return false
}

// after returns the set after reading one of prefixes (a string matches
// the patterns after some prefix if it matches them after one of them).
func (g *globSet) after(prefixes []string) stateSet {
	set := g.empty()
	for _, p := range prefixes {
		for id, in := range g.read(g.start(), p) {
			set[id] = set[id] || in
		}
	}
	return set
}

// someName reports whether, for some non-empty name, some pattern matches
// a prefix followed by the name.
func someName(patterns, prefixes []string) bool { return someNameLit(patterns, nil, prefixes) }

// someNameLit is someName with literal bytes in the patterns (see
// matchLit).
func someNameLit(patterns []string, lits [][]bool, prefixes []string) bool {
	g := newGlobSet(patterns, lits)
	// A state reached by some name: every rune can be chosen to match
	// a literal, so the states one rune reaches are those the pattern
	// lets any rune reach.
	reached := g.empty()
	var queue []int
	visit := func(from stateSet) {
		for id, in := range from {
			if in && !reached[id] {
				reached[id] = true
				queue = append(queue, id)
			}
		}
	}
	one := func(id int) stateSet {
		next := g.empty()
		k, i := g.pat[id], g.pos[id]
		switch {
		case i == len(g.pats[k]):
		case g.pats[k][i] == wildStar:
			g.add(next, k, i)
		default:
			g.add(next, k, i+1)
		}
		return next
	}
	for id, in := range g.after(prefixes) {
		if in {
			visit(one(id))
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		visit(one(id))
	}
	return g.accepts(stateSet(reached))
}

// maxNameSets bounds the sets of states everyName explores; past it,
// everyName answers false, the answer that cannot widen a grant.
const maxNameSets = 4096

// everyName reports whether, for every non-empty name, some pattern
// matches a prefix followed by the name.
func everyName(patterns, prefixes []string) bool { return everyNameLit(patterns, nil, prefixes) }

// everyNameLit is everyName with literal bytes in the patterns (see
// matchLit).
func everyNameLit(patterns []string, lits [][]bool, prefixes []string) bool {
	g := newGlobSet(patterns, lits)
	start := g.after(prefixes)
	seen := map[string]bool{}
	var queue []stateSet
	push := func(set stateSet) {
		key := string(packSet(set))
		if !seen[key] {
			seen[key] = true
			queue = append(queue, set)
		}
	}
	next := func(set stateSet) {
		for _, r := range g.lits {
			push(g.step(set, r, false))
		}
		push(g.step(set, 0, true))
	}
	next(start)
	for len(queue) > 0 {
		if len(seen) > maxNameSets {
			return false
		}
		set := queue[0]
		queue = queue[1:]
		if !g.accepts(set) {
			return false
		}
		next(set)
	}
	return true
}

func packSet(set stateSet) []byte {
	b := make([]byte, (len(set)+7)/8)
	for id, in := range set {
		if in {
			b[id/8] |= 1 << (id % 8)
		}
	}
	return b
}
