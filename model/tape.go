package model

import (
	"errors"
	"reflect"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// Running a tape on the calling goroutine.
//
// gorgonia's tapeMachine.RunAll locks the calling goroutine to its OS
// thread (for CUDA, which this model does not use), starts the program on
// a new goroutine and waits for it. Every step therefore hands the Go
// scheduler's P from the locked thread to another thread and back: two
// futex wake-ups, and the tape's work lands on whichever thread and core
// took it, away from the caches the last step warmed. That was the
// unpinned slowdown (one thread, 10–15% slower when Go could use two
// cores than when pinned to one) and most of why two shards running at
// once each ran 25–40% slower than one alone: the woken threads were
// often put on the core that woke them.
//
// tape runs the same program, through the same unexported method RunAll
// starts on its goroutine (linked below: gorgonia is pinned at v0.9.18 in
// go.mod, and TestTapeRunsInPlace checks the link against RunAll), on the
// calling goroutine and thread. The one thing RunAll adds after the
// program is its closure queue, which gorgonia fills only for gradients
// of identity ops; a tape whose first run (through RunAll) queued any
// closure keeps using RunAll.
type tape struct {
	vm     G.VM
	m      unsafe.Pointer // the *gorgonia.tapeMachine in vm
	direct bool           // the first run is done and queued no closure
	ran    bool
	errc   chan error
	done   chan struct{}
}

func newTape(vm G.VM) *tape {
	return &tape{vm: vm, m: reflect.ValueOf(vm).UnsafePointer(), errc: make(chan error, 1), done: make(chan struct{}, 1)}
}

//go:linkname tapeRunall gorgonia.org/gorgonia.(*tapeMachine).runall
func tapeRunall(m unsafe.Pointer, errc chan error, done chan struct{})

// RunAll runs the program once, as the tape machine's RunAll does.
func (t *tape) RunAll() error {
	if !t.direct {
		err := t.vm.RunAll()
		if !t.ran && err == nil {
			t.ran = true
			t.direct = closureQueue(t.vm) == 0
		}
		return err
	}
	tapeRunall(t.m, t.errc, t.done)
	select {
	case err := <-t.errc:
		return err
	case <-t.done:
		return nil
	default:
		return errors.New("model: the tape stopped without finishing or failing")
	}
}

// Reset readies the tape for the next run.
func (t *tape) Reset() { t.vm.Reset() }

// closureQueue is the length of the tape machine's closure queue.
func closureQueue(vm G.VM) int {
	return reflect.ValueOf(vm).Elem().FieldByName("closureQueue").Len()
}
