// Command chaoslab-linearizability judges a recorded history of reads and writes on registers
// with Porcupine (github.com/anishathalye/porcupine), the way Jepsen's Knossos would: record first,
// judge afterwards. The lab writes the history (one JSON operation a line, Jepsen's invoke/ok/fail/info
// meanings) and reads this program's verdict as one JSON document on stdout.
//
// Input line: {"index":0,"type":"invoke","f":"write","key":"k1","value":3,"process":2,"time":12345}
// (time in nanoseconds; f is read or write; a read's value is on its ok line; key defaults to "").
//
// Exit status: 0 linearizable, 1 not linearizable, 2 bad input, 3 unknown (the time limit ran out).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// historyOp is one line of the lab's history.jsonl.
type historyOp struct {
	Index   int             `json:"index"`
	Type    string          `json:"type"`
	F       string          `json:"f"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Process int             `json:"process"`
	Time    int64           `json:"time"`
}

// registerInput is what a client asked; registerOutput what it was told.
type registerInput struct {
	Write bool
	Value string
}

type registerOutput struct {
	Value   string
	Unknown bool // an indeterminate write: its output carries nothing
}

// Op is an operation as the verdict reports it.
type Op struct {
	Process  int    `json:"process"`
	F        string `json:"f"`
	Key      string `json:"key"`
	Value    string `json:"value"`
	CallNs   int64  `json:"callNs"`
	ReturnNs *int64 `json:"returnNs"` // null: indeterminate (info), it may take effect at any later time
	Index    int    `json:"index"`
}

// Counterexample: on the first key that is not linearizable, the longest order Porcupine could
// justify and the operations none of which could come next (the stale read is among them).
type Counterexample struct {
	Key          string `json:"key"`
	Linearized   []Op   `json:"linearized"`
	CannotFollow []Op   `json:"cannotFollow"`
	StaleRead    *Op    `json:"staleRead,omitempty"`
	Expected     string `json:"expected,omitempty"`
}

// Verdict is the one JSON document on stdout. Valid is true, false or "unknown" (Jepsen's three values).
type Verdict struct {
	Valid          interface{}     `json:"valid"`
	Checker        string          `json:"checker"`
	Ops            int             `json:"ops"`
	Keys           int             `json:"keys"`
	Reads          int             `json:"reads"`
	Writes         int             `json:"writes"`
	Indeterminate  int             `json:"indeterminate"`
	DurationMs     int64           `json:"durationMs"`
	Counterexample *Counterexample `json:"counterexample,omitempty"`
	Visualization  string          `json:"visualization,omitempty"`
}

var registerModel = porcupine.Model{
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(registerInput)
		out := output.(registerOutput)
		if in.Write {
			return true, in.Value
		}
		return out.Value == state.(string), state
	},
	Equal: func(a, b interface{}) bool { return a.(string) == b.(string) },
	DescribeOperation: func(input, output interface{}) string {
		in := input.(registerInput)
		if in.Write {
			return fmt.Sprintf("write(%s)", in.Value)
		}
		return fmt.Sprintf("read() → %s", output.(registerOutput).Value)
	},
	DescribeState: func(state interface{}) string { return fmt.Sprintf("%q", state) },
}

func valueString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

type parsed struct {
	byKey         map[string][]porcupine.Operation
	views         map[string][]Op
	reads, writes int
	indeterminate int
	ops           int
}

// parse pairs each invocation with its completion. Failed operations did not happen and are dropped;
// indeterminate writes (info) stay open to the end; indeterminate reads constrain nothing and are dropped.
func parse(r io.Reader) (*parsed, error) {
	p := &parsed{byKey: map[string][]porcupine.Operation{}, views: map[string][]Op{}}
	open := map[int]historyOp{}
	var maxTime int64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	add := func(inv historyOp, out string, ret *int64) {
		write := inv.F == "write"
		in := registerInput{Write: write, Value: valueString(inv.Value)}
		o := registerOutput{Value: out, Unknown: ret == nil}
		returnNs := int64(math.MaxInt64)
		if ret != nil {
			returnNs = *ret
		}
		p.byKey[inv.Key] = append(p.byKey[inv.Key], porcupine.Operation{ClientId: inv.Process, Input: in, Call: inv.Time, Output: o, Return: returnNs})
		val := in.Value
		if !write {
			val = out
		}
		p.views[inv.Key] = append(p.views[inv.Key], Op{Process: inv.Process, F: inv.F, Key: inv.Key, Value: val, CallNs: inv.Time, ReturnNs: ret, Index: inv.Index})
		if write {
			p.writes++
		} else {
			p.reads++
		}
		if ret == nil {
			p.indeterminate++
		}
	}
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var op historyOp
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if op.F != "read" && op.F != "write" {
			return nil, fmt.Errorf("line %d: f is %q; expected read or write", line, op.F)
		}
		p.ops++
		if op.Time > maxTime {
			maxTime = op.Time
		}
		switch op.Type {
		case "invoke":
			if _, busy := open[op.Process]; busy {
				return nil, fmt.Errorf("line %d: process %d invoked again before its last operation completed", line, op.Process)
			}
			open[op.Process] = op
		case "ok", "fail", "info":
			inv, ok := open[op.Process]
			if !ok {
				return nil, fmt.Errorf("line %d: %s for process %d, which has no open invocation", line, op.Type, op.Process)
			}
			delete(open, op.Process)
			switch {
			case op.Type == "ok":
				t := op.Time
				add(inv, valueString(op.Value), &t)
			case op.Type == "info" && inv.F == "write":
				add(inv, "", nil)
			}
		default:
			return nil, fmt.Errorf("line %d: type is %q; expected invoke, ok, fail or info", line, op.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	// Invocations that never completed are indeterminate, as Jepsen treats them.
	for _, inv := range open {
		if inv.F == "write" {
			add(inv, "", nil)
		}
	}
	return p, nil
}

func counterexample(key string, info porcupine.LinearizationInfo, views []Op) *Counterexample {
	partials := info.PartialLinearizations()
	if len(partials) == 0 {
		return &Counterexample{Key: key}
	}
	longest := []int{}
	for _, l := range partials[0] {
		if len(l) > len(longest) {
			longest = l
		}
	}
	done := map[int]bool{}
	ce := &Counterexample{Key: key}
	state := ""
	for _, id := range longest {
		done[id] = true
		ce.Linearized = append(ce.Linearized, views[id])
		if views[id].F == "write" {
			state = views[id].Value
		}
	}
	// The operations that could come next in real time: not yet linearized, called before every
	// remaining operation returned. One of them is the anomaly; a read that saw another value is stale.
	var minReturn int64 = math.MaxInt64
	for id, v := range views {
		if !done[id] && v.ReturnNs != nil && *v.ReturnNs < minReturn {
			minReturn = *v.ReturnNs
		}
	}
	for id, v := range views {
		if !done[id] && v.CallNs <= minReturn {
			ce.CannotFollow = append(ce.CannotFollow, v)
		}
	}
	sort.Slice(ce.CannotFollow, func(i, j int) bool { return ce.CannotFollow[i].CallNs < ce.CannotFollow[j].CallNs })
	for i := range ce.CannotFollow {
		v := ce.CannotFollow[i]
		if v.F == "read" && v.Value != state {
			ce.StaleRead = &ce.CannotFollow[i]
			ce.Expected = state
			break
		}
	}
	// Keep the report short: the last operations of the order that held.
	if n := len(ce.Linearized); n > 10 {
		ce.Linearized = ce.Linearized[n-10:]
	}
	return ce
}

func main() {
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long and answer unknown")
	vis := flag.String("visualize", "", "write Porcupine's HTML visualization of the first failing key here")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: chaoslab-linearizability [--timeout 60s] [--visualize out.html] history.jsonl\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaoslab-linearizability: %v\n", err)
		os.Exit(2)
	}
	defer f.Close()
	started := time.Now()
	p, err := parse(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaoslab-linearizability: %s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	keys := make([]string, 0, len(p.byKey))
	for k := range p.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v := Verdict{Valid: true, Checker: "porcupine v1.3.1", Ops: p.ops, Keys: len(keys), Reads: p.reads, Writes: p.writes, Indeterminate: p.indeterminate}
	deadline := started.Add(*timeout)
	code := 0
	for _, k := range keys {
		left := time.Until(deadline)
		if left <= 0 {
			v.Valid, code = "unknown", 3
			break
		}
		res, info := porcupine.CheckOperationsVerbose(registerModel, p.byKey[k], left)
		if res == porcupine.Unknown {
			v.Valid, code = "unknown", 3
			break
		}
		if res == porcupine.Illegal {
			v.Valid, code = false, 1
			v.Counterexample = counterexample(k, info, p.views[k])
			if *vis != "" {
				if err := porcupine.VisualizePath(registerModel, info, *vis); err == nil {
					v.Visualization = *vis
				}
			}
			break
		}
	}
	v.DurationMs = time.Since(started).Milliseconds()
	out, _ := json.Marshal(v)
	fmt.Println(string(out))
	os.Exit(code)
}
