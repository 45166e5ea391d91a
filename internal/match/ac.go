package match

// acMatcher is an Aho–Corasick automaton over the literal needles of many
// rule values on one field: one pass over the field's text finds which
// needles occur, instead of one substring search per value.
type acMatcher struct {
	classes [256]int32
	nclass  int
	// delta maps row+class to the next state's entry: the next state's
	// row offset (state*nclass) shifted left by one, with the low bit set
	// when the state has outputs. Pre-multiplied rows keep the inner loop
	// to two loads and an add per byte.
	delta    []int32
	out      [][]int32
	npattern int
}

func newACMatcher(patterns [][]byte) *acMatcher {
	a := &acMatcher{npattern: len(patterns)}
	// Byte classes: each byte used in a pattern gets its own class, all
	// other bytes share class 0.
	for _, p := range patterns {
		for _, c := range p {
			if a.classes[c] == 0 {
				a.nclass++
				a.classes[c] = int32(a.nclass)
			}
		}
	}
	a.nclass++
	nc := a.nclass
	// Needles are case-folded: an ASCII upper-case letter goes to its
	// lower-case letter's class, so ASCII text can be scanned unfolded.
	for c := 'A'; c <= 'Z'; c++ {
		a.classes[c] = a.classes[c+'a'-'A']
	}
	// Trie.
	trie := [][]int32{make([]int32, nc)}
	out := [][]int32{nil}
	for id, p := range patterns {
		s := int32(0)
		for _, c := range p {
			cl := a.classes[c]
			if trie[s][cl] == 0 {
				trie = append(trie, make([]int32, nc))
				out = append(out, nil)
				trie[s][cl] = int32(len(trie) - 1)
			}
			s = trie[s][cl]
		}
		out[s] = append(out[s], int32(id))
	}
	// BFS: failure links, full transition table, merged outputs.
	n := len(trie)
	a.delta = make([]int32, n*nc)
	fail := make([]int32, n)
	queue := []int32{}
	for cl := 0; cl < nc; cl++ {
		if t := trie[0][cl]; t != 0 {
			a.delta[cl] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		out[s] = append(out[s], out[fail[s]]...)
		for cl := 0; cl < nc; cl++ {
			t := trie[s][cl]
			if t != 0 {
				fail[t] = a.delta[int(fail[s])*nc+cl]
				a.delta[int(s)*nc+cl] = t
				queue = append(queue, t)
			} else {
				a.delta[int(s)*nc+cl] = a.delta[int(fail[s])*nc+cl]
			}
		}
	}
	a.out = out
	for i, t := range a.delta {
		e := t * int32(nc) << 1
		if len(out[t]) > 0 {
			e |= 1
		}
		a.delta[i] = e
	}
	return a
}

// scanRaw is scan on unfolded text: exact for ASCII text (upper-case
// letters share their lower-case class). It stops and returns false at
// the first non-ASCII byte; hits found up to there stand (the folded text
// holds them too), and the caller scans the folded text.
func (a *acMatcher) scanRaw(text []byte, hits []uint64) bool {
	row := int32(0)
	delta := a.delta
	for _, c := range text {
		if c >= 0x80 {
			return false
		}
		e := delta[row+a.classes[c]]
		row = e >> 1
		if e&1 != 0 {
			for _, id := range a.out[int(row)/a.nclass] {
				hits[id>>6] |= 1 << (uint(id) & 63)
			}
		}
	}
	return true
}

// scan marks in hits (a bitset of npattern bits) every pattern found in
// text.
func (a *acMatcher) scan(text []byte, hits []uint64) {
	row := int32(0)
	delta := a.delta
	for _, c := range text {
		e := delta[row+a.classes[c]]
		row = e >> 1
		if e&1 != 0 {
			for _, id := range a.out[int(row)/a.nclass] {
				hits[id>>6] |= 1 << (uint(id) & 63)
			}
		}
	}
}
