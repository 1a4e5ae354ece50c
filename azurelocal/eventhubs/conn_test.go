package eventhubs

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/azimuth-gitops/azimuth/azurelocal/directory"
)

// FuzzConn feeds a connection arbitrary frames after the protocol header: the server answers or
// closes, and never panics or hangs.
func FuzzConn(f *testing.F) {
	frame := func(typ byte, perf Described, payload []byte) []byte {
		body := append(encode(perf), payload...)
		size := 8 + len(body)
		return append([]byte{byte(size >> 24), byte(size >> 16), byte(size >> 8), byte(size), 2, typ, 0, 0}, body...)
	}
	open := frame(frameAMQP, describedList(perfOpen, "c", "ns.servicebus.windows.net", uint32(65536)), nil)
	begin := frame(frameAMQP, describedList(perfBegin, nil, uint32(0), uint32(100), uint32(100)), nil)
	attach := frame(frameAMQP, describedList(perfAttach, "l", uint32(0), false, nil, nil, describedList(descSource), describedList(descTarget, "$cbs")), nil)
	transfer := frame(frameAMQP, describedList(perfTransfer, uint32(0), uint32(0), []byte{0}, uint32(0), false, false), encode(Described{uint64(secValue), "x"}))
	f.Add(open)
	f.Add(append(append(append(append([]byte{}, open...), begin...), attach...), transfer...))
	f.Add([]byte{0, 0, 0, 8, 2, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0})
	dir, err := directory.Parse([]byte(`
tenants: [{id: 6d1c3b0e-4c38-4a8c-9a57-2b6a0f7f5a11}]
subscriptions: [{id: 3f2b9d4e-1a6c-4b8e-9d0f-5c7a2e4b6d81}]
resources:
  eventHubsNamespaces:
    - {name: fuzzns, subscription: 3f2b9d4e-1a6c-4b8e-9d0f-5c7a2e4b6d81, resourceGroup: g, eventHubs: [{name: h}]}
`))
	if err != nil {
		f.Fatal(err)
	}
	s := New(dir, nil)
	f.Fuzz(func(t *testing.T, frames []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.ServeConn(server)
			close(done)
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(headerAMQP)
		client.Write(frames)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection did not end")
		}
	})
}
