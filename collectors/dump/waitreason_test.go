package dump

import (
	"testing"

	"github.com/asyncmon/asyncmon/model"
)

func TestInferWaitReason(t *testing.T) {
	f := func(names ...string) []model.Frame {
		var fs []model.Frame
		for _, n := range names {
			fs = append(fs, model.Frame{Func: n})
		}
		return fs
	}
	for _, tt := range []struct {
		frames []model.Frame
		want   string
	}{
		{f("runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.f"), model.WaitChanRecv},
		{f("runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.f"), model.WaitChanSend},
		{f("runtime.gopark", "runtime.selectgo", "main.f"), model.WaitSelect},
		{f("runtime.gopark", "runtime.block", "main.f"), model.WaitNilChan},
		{f("runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1", "internal/sync.runtime_SemacquireMutex", "main.f"), model.WaitMutex},
		{f("runtime.gopark", "sync.runtime_notifyListWait", "sync.(*Cond).Wait", "main.f"), model.WaitCond},
		{f("runtime.gopark", "runtime.semacquire1", "sync.runtime_SemacquireWaitGroup", "sync.(*WaitGroup).Wait"), model.WaitWaitGroup},
		{f("runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait"), model.WaitIO},
		{f("runtime.gopark", "time.Sleep", "main.f"), model.WaitSleep},
		{f("runtime.gopark", "runtime.gcBgMarkWorker"), model.WaitGC},
		{f("internal/runtime/syscall.Syscall6", "syscall.read"), model.WaitSyscall},
		{f("main.spin", "main.main"), model.WaitRunnable},
		{f("runtime.gopark", "runtime.somethingNew"), model.WaitRuntime},
		{f("sync.(*Mutex).Lock", "main.f"), model.WaitMutex}, // debug=1 text: runtime frames hidden
		{nil, model.WaitOther},
	} {
		if got := InferWaitReason(tt.frames); got != tt.want {
			t.Errorf("InferWaitReason(%v) = %q, want %q", tt.frames, got, tt.want)
		}
	}
}

func TestStartFrame(t *testing.T) {
	g := model.Goroutine{Frames: []model.Frame{
		{Func: "app.work"}, {Func: "sync.(*WaitGroup).Go.func1"}, {Func: "runtime.goexit"},
	}}
	if f := StartFrame(&g); f.Func != "app.work" {
		t.Errorf("wrapped start = %q, want app.work", f.Func)
	}
	g.Frames = []model.Frame{{Func: "net/http.(*conn).serve"}, {Func: "runtime.goexit"}}
	if f := StartFrame(&g); f.Func != "net/http.(*conn).serve" {
		t.Errorf("stdlib start = %q", f.Func)
	}
}
