package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultMaxLineBytes is the longest line a Scanner reads as an event
// unless told otherwise: 16 MiB, without its line ending.
const DefaultMaxLineBytes = 16 << 20

// ErrLineTooLong is the error of a line longer than the Scanner's limit.
var ErrLineTooLong = errors.New("detect: line too long")

// LineError reports a malformed line of a JSON lines input: not a JSON
// object, or too long.
type LineError struct {
	Name string // the input's name, e.g. its file name
	Line int    // 1-based line number
	Err  error  // a *SyntaxError, or ErrLineTooLong
}

// Error returns "detect: NAME:LINE: MESSAGE", with control characters in
// the message escaped: it may quote the line, and it goes to terminals.
func (e *LineError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "detect: ")
	if strings.ContainsFunc(msg, isControl) {
		var b strings.Builder
		for _, r := range msg {
			if isControl(r) {
				fmt.Fprintf(&b, "\\x%02x", r)
			} else {
				b.WriteRune(r)
			}
		}
		msg = b.String()
	}
	return fmt.Sprintf("detect: %s:%d: %s", e.Name, e.Line, msg)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// Scanner feeds inputs of JSON lines, one event per line, to an Engine.
// Its zero value is not usable: Engine must be set. Lines end with "\n" or
// "\r\n", and the last line of an input may end without either. A UTF-8
// byte order mark at the start of a line is skipped: editors write one at
// the start of a file, and concatenating such files puts one at the start
// of a line; anywhere else it makes the line malformed. Blank lines are
// skipped and counted nowhere; a line that is not a JSON object, or longer
// than MaxLineBytes, is malformed: it is reported to OnMalformed, counted,
// and the scan goes on with the next line. So every line of an input read
// to its end is an event, malformed or blank. Gzip inputs are recognised
// by their first bytes and decompressed.
//
// Events without a log type are timed by a clock of their input (see
// Engine), named "input:" and the input's name.
//
// A Scanner may scan several inputs in turn, or at once from several
// goroutines; its counters add up over all of them. It does not call
// Engine.Flush: the caller does once all inputs are read, or once Scan
// returns because its context is done, so that every open alert's final
// state is still delivered.
type Scanner struct {
	// Engine processes the events.
	Engine *Engine
	// LogType, if set, is the log type of every event; otherwise each
	// event's p_log_type field gives it.
	LogType string
	// MaxLineBytes is the longest line read as an event, without its line
	// ending and byte order mark; zero means DefaultMaxLineBytes. Decoding
	// an event allocates up to about 65 times its size (long arrays of
	// tiny objects are the worst case), so the limit bounds memory too.
	MaxLineBytes int
	// OnMalformed, if set, is called with each malformed line, from the
	// goroutine that called Scan.
	OnMalformed func(*LineError)
	// MalformedAlerts makes each Scan of an input with malformed lines
	// send an AlertMalformed alert to the engine's sink once the input is
	// read (or reading it fails): the lines a limit kept from the rules
	// are then seen where alerts are, not only in the counters.
	MalformedAlerts bool
	// OnSinkError, if set, is called with the error (a *SinkError) of
	// each event whose alert states the sink did not all take, and the
	// scan goes on; if not set, Scan returns that error.
	OnSinkError func(error)

	events, malformed, bytes atomic.Int64
}

// ScanStats are a Scanner's counters.
type ScanStats struct {
	Events    int64 // well-formed lines, processed as events
	Malformed int64 // malformed lines
	Bytes     int64 // bytes of the lines read, after decompression
}

// Stats returns the counters of every scan so far. It may be called while
// a scan runs, e.g. to show progress.
func (s *Scanner) Stats() ScanStats {
	return ScanStats{Events: s.events.Load(), Malformed: s.malformed.Load(), Bytes: s.bytes.Load()}
}

// Scan reads r to its end and processes each line as an event; name names
// r in the reports of malformed lines. It returns an error, wrapped with
// name and line number, when r cannot be read (a corrupt gzip stream
// included); ctx's error when ctx is done; or the engine's error when its
// deduper fails, or its sink (unless OnSinkError is set). A malformed line
// is not an error of Scan.
//
// When ctx is done, Scan returns promptly, even while r blocks in Read (a
// pipe that stays open): every line read whole before has been processed,
// and their alerts delivered, and nothing after it. The Read in progress
// is left to a goroutine that ends when it returns.
func (s *Scanner) Scan(ctx context.Context, r io.Reader, name string) error {
	if s.Engine == nil {
		return errors.New("detect: Scanner has no Engine")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() != nil {
		cr := newCtxReader(ctx, r)
		defer cr.close()
		r = cr
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("detect: %s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	limit := s.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	lr := newLineReader(br, limit)
	var bad malformedLines
	for {
		line, err := lr.next()
		if err == io.EOF {
			return s.reportMalformed(ctx, name, &bad)
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
			return cerr
		}
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			err = fmt.Errorf("detect: %s:%d: %w", name, lr.line+1, err)
			return errors.Join(err, s.reportMalformed(ctx, name, &bad))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s.bytes.Add(int64(lr.read))
		lr.read = 0
		if err == nil && isBlank(line) {
			continue
		}
		// As Engine.Process: the whole line is checked, and decoded only
		// as far as the rules need.
		var ev Event
		if err == nil {
			ev, err = s.Engine.decodeHead(line)
		}
		if err != nil {
			s.malformed.Add(1)
			if s.MalformedAlerts {
				bad.add(lr.line, err, s.Engine.clock())
			}
			if s.OnMalformed != nil {
				s.OnMalformed(&LineError{Name: name, Line: lr.line, Err: err})
			}
			continue
		}
		s.events.Add(1)
		if err := s.Engine.processHead(ctx, &ev, s.LogType, name); err != nil {
			if s.OnSinkError != nil && onlySinkErrors(err) {
				s.OnSinkError(err)
				continue
			}
			return err // the engine's deduper or sink, not the input
		}
	}
}

// maxMalformedLines is how many line numbers an AlertMalformed lists.
const maxMalformedLines = 100

// malformedLines are the malformed lines of one scan.
type malformedLines struct {
	count   int
	lines   []int
	reasons map[string]int
	first   time.Time
}

func (m *malformedLines) add(line int, err error, now time.Time) {
	if m.count == 0 {
		m.first = now
		m.reasons = map[string]int{}
	}
	m.count++
	if len(m.lines) < maxMalformedLines {
		m.lines = append(m.lines, line)
	}
	reason := "not a JSON object"
	var se *SyntaxError
	switch {
	case errors.Is(err, ErrLineTooLong):
		reason = "line too long"
	case errors.As(err, &se) && strings.HasPrefix(se.Msg, "nesting deeper"):
		reason = "nested too deep"
	}
	m.reasons[reason]++
}

// reportMalformed sends the AlertMalformed alert of a scan of input name,
// if it had malformed lines: their count, the first line numbers and how
// many there were of each reason, so that events a limit kept from the
// rules are seen where alerts are.
func (s *Scanner) reportMalformed(ctx context.Context, name string, m *malformedLines) error {
	if m.count == 0 || !s.MalformedAlerts {
		return nil
	}
	now := s.Engine.clock()
	a := &Alert{
		ID:           AlertID(AlertMalformed, MalformedRuleID, name, m.first),
		Type:         AlertMalformed,
		Step:         StepFinal, // sent once, as it will stay
		RuleID:       MalformedRuleID,
		Title:        fmt.Sprintf("%d malformed line%s in %s, not evaluated", m.count, pluralS(m.count), name),
		Severity:     SeverityMedium,
		Dedup:        name,
		EventCount:   m.count,
		CreationTime: m.first,
		UpdateTime:   now,
		Outputs: Outputs{
			{Name: "input", Value: name},
			{Name: "count", Value: m.count},
			{Name: "lines", Value: m.lines},
			{Name: "reasons", Value: m.reasons},
		},
	}
	return s.Engine.emit(ctx, []*Alert{a})
}

// pluralS is "s" unless n is 1.
func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// onlySinkErrors reports whether err is a *SinkError, or errors joined
// that all are.
func onlySinkErrors(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlySinkErrors(e) {
				return false
			}
		}
		return true
	}
	_, ok := err.(*SinkError)
	return ok
}

func isBlank(line []byte) bool {
	return len(bytes.TrimLeft(line, " \t\r\v\f")) == 0
}

// lineReader splits its input into lines of at most max bytes, without
// their "\n" or "\r\n" and without a leading byte order mark. A longer
// line is skipped to its end and reported with ErrLineTooLong, after which
// reading goes on.
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte // holds a line that spans several reads
	line int    // number of the line last returned
	read int    // bytes consumed since the caller last reset it
}

var byteOrderMark = []byte("\xef\xbb\xbf")

func newLineReader(r *bufio.Reader, max int) *lineReader {
	return &lineReader{r: r, max: max}
}

// next returns the next line, valid until the following call, or io.EOF
// at the end of the input, or a read error.
func (lr *lineReader) next() ([]byte, error) {
	if b, _ := lr.r.Peek(3); bytes.Equal(b, byteOrderMark) {
		lr.r.Discard(3)
		lr.read += 3
	}
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.read += len(chunk)
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // room for "\r\n"
				tooLong = true
				lr.buf = lr.buf[:0]
			} else if err == bufio.ErrBufferFull || len(lr.buf) > 0 {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(chunk) == 0 && len(lr.buf) == 0 && !tooLong:
			// The input ended after the last line's "\n".
			return nil, io.EOF
		case err != nil && err != io.EOF:
			return nil, err
		}
		// chunk ends the line: with "\n", or at the end of the input.
		lr.line++
		line := chunk
		if len(lr.buf) > 0 {
			line = lr.buf
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if tooLong || len(line) > lr.max {
			return nil, fmt.Errorf("%w: over %d bytes", ErrLineTooLong, lr.max)
		}
		return line, nil
	}
}

// ctxReader reads r from a goroutine so that Read returns ctx's error as
// soon as ctx is done, even while the goroutine's Read blocks.
type ctxReader struct {
	ctx    context.Context
	data   chan readResult
	free   chan []byte
	done   chan struct{}
	rest   []byte // of the last result, not yet returned
	last   []byte // the buffer rest is part of
	err    error
	closed bool
}

type readResult struct {
	buf []byte
	n   int
	err error
}

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	cr := &ctxReader{
		ctx:  ctx,
		data: make(chan readResult),
		free: make(chan []byte, 2),
		done: make(chan struct{}),
	}
	cr.free <- make([]byte, 64<<10)
	cr.free <- make([]byte, 64<<10)
	go func() {
		for {
			var buf []byte
			select {
			case buf = <-cr.free:
			case <-cr.done:
				return
			}
			n, err := r.Read(buf)
			select {
			case cr.data <- readResult{buf, n, err}:
			case <-cr.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return cr
}

func (cr *ctxReader) Read(p []byte) (int, error) {
	for len(cr.rest) == 0 {
		if cr.last != nil {
			cr.free <- cr.last
			cr.last = nil
		}
		if cr.err != nil {
			return 0, cr.err
		}
		select {
		case <-cr.ctx.Done():
			cr.err = cr.ctx.Err()
			return 0, cr.err
		case res := <-cr.data:
			cr.last, cr.rest, cr.err = res.buf, res.buf[:res.n], res.err
		}
	}
	n := copy(p, cr.rest)
	cr.rest = cr.rest[n:]
	return n, nil
}

// close lets the goroutine go once its Read returns.
func (cr *ctxReader) close() {
	if !cr.closed {
		cr.closed = true
		close(cr.done)
	}
}
