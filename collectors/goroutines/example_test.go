package goroutines_test

import (
	"fmt"
	"strings"

	"github.com/asyncmon/asyncmon/collectors/dump"
	"github.com/asyncmon/asyncmon/collectors/goroutines"
)

func ExampleGroupDump() {
	text := `goroutine 1 [running]:
main.main()
	/src/app/main.go:20 +0x1d

goroutine 7 [chan receive, 3 minutes labels:{"route": "/upload"}]:
main.worker(...)
	/src/app/worker.go:12
created by main.main in goroutine 1
	/src/app/main.go:15 +0x25

goroutine 8 [chan receive, 5 minutes labels:{"route": "/upload"}]:
main.worker(...)
	/src/app/worker.go:12
created by main.main in goroutine 1
	/src/app/main.go:15 +0x25
`
	d, err := dump.Parse(strings.NewReader(text))
	if err != nil {
		fmt.Println(err)
		return
	}
	t := goroutines.GroupDump(d, goroutines.GroupOptions{})
	for _, g := range t.Groups {
		fmt.Printf("%d × %s at %s, created at %s, longest %v, labels %v\n",
			g.Count, g.WaitReason, g.Site().Site(), g.CreatedBy.Site(), g.MaxWait, g.Labels)
	}
	// Output:
	// 2 × chan receive at /src/app/worker.go:12, created at /src/app/main.go:15, longest 5m0s, labels map[route:/upload]
	// 1 × running at /src/app/main.go:20, created at , longest 0s, labels map[]
}
