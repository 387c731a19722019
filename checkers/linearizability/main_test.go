package main

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

func check(t *testing.T, history string) (porcupine.CheckResult, *Counterexample) {
	t.Helper()
	p, err := parse(strings.NewReader(history))
	if err != nil {
		t.Fatal(err)
	}
	for k, ops := range p.byKey {
		res, info := porcupine.CheckOperationsVerbose(registerModel, ops, 0)
		if res != porcupine.Ok {
			return res, counterexample(k, info, p.views[k])
		}
	}
	return porcupine.Ok, nil
}

func TestSequentialHistoryIsLinearizable(t *testing.T) {
	h := `{"type":"invoke","f":"write","key":"a","value":1,"process":0,"time":1}
{"type":"ok","f":"write","key":"a","value":1,"process":0,"time":2}
{"type":"invoke","f":"read","key":"a","value":null,"process":1,"time":3}
{"type":"ok","f":"read","key":"a","value":1,"process":1,"time":4}
`
	if res, _ := check(t, h); res != porcupine.Ok {
		t.Fatalf("got %v", res)
	}
}

// A read that starts after a write was acknowledged and still sees the old value: the stale strong read
// of a deposed leader whose lease it still believes in.
func TestStaleReadIsCaughtAndNamed(t *testing.T) {
	h := `{"type":"invoke","f":"write","key":"a","value":1,"process":0,"time":1}
{"type":"ok","f":"write","key":"a","value":1,"process":0,"time":2}
{"type":"invoke","f":"write","key":"a","value":2,"process":0,"time":3}
{"type":"ok","f":"write","key":"a","value":2,"process":0,"time":4}
{"type":"invoke","f":"read","key":"a","value":null,"process":1,"time":5}
{"type":"ok","f":"read","key":"a","value":1,"process":1,"time":6}
`
	res, ce := check(t, h)
	if res != porcupine.Illegal {
		t.Fatalf("got %v, want illegal", res)
	}
	if ce == nil || ce.StaleRead == nil || ce.StaleRead.Value != "1" || ce.Expected != "2" {
		t.Fatalf("counterexample %+v", ce)
	}
}

// An indeterminate write may take effect at any later time (Jepsen's info); a failed one never does.
func TestIndeterminateAndFailedWrites(t *testing.T) {
	info := `{"type":"invoke","f":"write","key":"a","value":7,"process":0,"time":1}
{"type":"info","f":"write","key":"a","value":7,"process":0,"time":2}
{"type":"invoke","f":"read","key":"a","value":null,"process":1,"time":10}
{"type":"ok","f":"read","key":"a","value":7,"process":1,"time":11}
`
	if res, _ := check(t, info); res != porcupine.Ok {
		t.Fatalf("info write: got %v", res)
	}
	failed := strings.ReplaceAll(info, `"info"`, `"fail"`)
	if res, _ := check(t, failed); res != porcupine.Illegal {
		t.Fatalf("failed write read back: got %v, want illegal", res)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	h := `{"type":"invoke","f":"write","key":"a","value":1,"process":0,"time":1}
{"type":"ok","f":"write","key":"a","value":1,"process":0,"time":2}
{"type":"invoke","f":"read","key":"b","value":null,"process":1,"time":3}
{"type":"ok","f":"read","key":"b","value":null,"process":1,"time":4}
`
	if res, _ := check(t, h); res != porcupine.Ok {
		t.Fatalf("got %v", res)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	for _, h := range []string{
		`{"type":"ok","f":"read","key":"a","value":1,"process":0,"time":1}`,
		`{"type":"invoke","f":"cas","key":"a","value":1,"process":0,"time":1}`,
		`{"type":"invoke","f":"read","process":0,"time":1}` + "\n" + `{"type":"invoke","f":"read","process":0,"time":2}`,
		`not json`,
	} {
		if _, err := parse(strings.NewReader(h)); err == nil {
			t.Errorf("accepted %q", h)
		}
	}
}
