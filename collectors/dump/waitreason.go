package dump

import (
	"strings"

	"github.com/asyncmon/asyncmon/model"
)

// NormalizeWaitReason maps the state printed in a goroutine header
// ("chan receive", "sync.Mutex.Lock", "GC worker (idle)", ...) to one of
// the bounded set of model.Wait* reasons. Unknown states map to
// model.WaitOther, so the result is always safe as a metric label.
func NormalizeWaitReason(state string) string {
	// "(durable)" marks synctest bubble waits; the wait is the same.
	state = strings.TrimSuffix(state, " (durable)")
	switch state {
	case "running":
		return model.WaitRunning
	case "runnable", "preempted":
		return model.WaitRunnable
	case "chan receive":
		return model.WaitChanRecv
	case "chan send":
		return model.WaitChanSend
	case "select":
		return model.WaitSelect
	case "chan receive (nil chan)", "chan send (nil chan)", "select (no cases)":
		return model.WaitNilChan
	case "sync.Mutex.Lock", "sync.RWMutex.RLock", "sync.RWMutex.Lock", "semacquire":
		// Before Go 1.20 mutexes printed "semacquire"; the parser
		// refines it from the frames (it may be a WaitGroup).
		return model.WaitMutex
	case "sync.Cond.Wait":
		return model.WaitCond
	case "sync.WaitGroup.Wait":
		return model.WaitWaitGroup
	case "IO wait":
		return model.WaitIO
	case "sleep":
		return model.WaitSleep
	case "syscall", "waiting for cgo callback":
		return model.WaitSyscall
	case "GC assist marking", "GC assist wait", "GC sweep wait", "GC scavenge wait",
		"GC worker (idle)", "GC worker (active)", "finalizer wait", "cleanup wait",
		"garbage collection", "garbage collection scan", "wait for GC cycle",
		"GC mark termination", "GC weak to strong wait", "force gc (idle)":
		return model.WaitGC
	case "idle", "dead", "copystack", "moribund", "enqueue", "waiting", "leaked",
		"panicwait", "dumping heap", "trace reader (blocked)", "GOMAXPROCS updater (idle)",
		"debug call", "stopping the world", "flushing proc caches",
		"trace goroutine status", "trace proc status", "page trace flush", "coroutine",
		"synctest.Run", "synctest.Wait", "timer goroutine (idle)":
		return model.WaitRuntime
	}
	return model.WaitOther
}

// InferWaitReason guesses the wait reason of a goroutine from its frames,
// innermost first, for sources that do not print it (the concurrent
// goroutine profile). It looks for the runtime or sync function the
// goroutine parked in: runtime.chanrecv means "chan receive",
// sync.(*Mutex).Lock "mutex", internal/poll.runtime_pollWait "io wait",
// and so on. A stack that does not start parked is "runnable" (the
// profiler's own goroutine, which is running, is "running"). A parked
// goroutine whose reason is not recognised is "runtime" when only runtime
// frames are involved, else "other".
func InferWaitReason(frames []model.Frame) string {
	sema := false // parked on a runtime semaphore; the caller decides
	parked := false
	for i, f := range frames {
		switch f.Func {
		case "runtime.gopark", "runtime.goparkunlock", "runtime.park_m", "runtime.mcall",
			"runtime.semacquire1", "runtime.notetsleepg", "runtime.selectgo.func1":
			parked = true
			continue
		case "runtime.chanrecv", "runtime.chanrecv1", "runtime.chanrecv2":
			return model.WaitChanRecv
		case "runtime.chansend", "runtime.chansend1":
			return model.WaitChanSend
		case "runtime.selectgo", "reflect.rselect", "runtime.reflect_rselect":
			return model.WaitSelect
		case "runtime.block":
			return model.WaitNilChan
		case "sync.runtime_SemacquireMutex", "internal/sync.runtime_SemacquireMutex",
			"sync.runtime_SemacquireRWMutexR", "sync.runtime_SemacquireRWMutex",
			"sync.(*Mutex).Lock", "sync.(*RWMutex).RLock", "sync.(*RWMutex).Lock",
			"internal/sync.(*Mutex).Lock", "internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).lockSlow":
			return model.WaitMutex
		case "sync.runtime_notifyListWait", "sync.(*Cond).Wait":
			return model.WaitCond
		case "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait":
			return model.WaitWaitGroup
		case "sync.runtime_Semacquire", "internal/sync.runtime_Semacquire":
			sema = true
			parked = true
			continue
		case "runtime.netpollblock", "internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait":
			return model.WaitIO
		case "time.Sleep", "runtime.timeSleep":
			return model.WaitSleep
		case "runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge", "runtime.runfinq",
			"runtime.forcegchelper", "runtime.gcenable", "runtime.unique_runtime_registerUniqueMapCleanup.func1",
			"runtime.(*cleanupQueue).dequeue", "runtime.runCleanups":
			return model.WaitGC
		case "runtime.goroutineProfileWithLabels", "runtime.goroutineProfileWithLabelsConcurrent",
			"runtime.GoroutineProfile", "runtime/pprof.runtime_goroutineProfileWithLabels",
			"runtime.Stack", "runtime.Callers":
			return model.WaitRunning
		case "runtime.asyncPreempt", "runtime.Gosched", "runtime.goschedIfBusy":
			return model.WaitRunnable
		}
		switch {
		case strings.HasPrefix(f.Func, "syscall.Syscall"), strings.HasPrefix(f.Func, "syscall.RawSyscall"),
			strings.HasPrefix(f.Func, "internal/runtime/syscall."), strings.HasPrefix(f.Func, "syscall.syscall"),
			f.Func == "runtime.cgocall", f.Func == "runtime.asmcgocall":
			return model.WaitSyscall
		}
		if sema {
			// A semaphore acquired by something we do not know.
			return model.WaitOther
		}
		if parked {
			if isRuntimeFunc(f.Func) {
				return model.WaitRuntime
			}
			return model.WaitOther
		}
		if i == 0 {
			// The innermost frame is not a park: the goroutine was
			// preempted, or pprof hid the runtime frames (debug=1
			// text); keep looking one frame further for a known
			// blocking call (sync.(*Mutex).Lock, time.Sleep, ...).
			continue
		}
		return model.WaitRunnable
	}
	if sema {
		return model.WaitMutex
	}
	if parked {
		return model.WaitRuntime
	}
	if len(frames) == 0 {
		return model.WaitOther
	}
	return model.WaitRunnable
}

// isRuntimeFunc reports whether fn belongs to the runtime itself.
func isRuntimeFunc(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/") ||
		strings.HasPrefix(fn, "runtime/internal/")
}
