package cluster

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartServer runs a NATS server in this process, listening on host:port
// (port 0: any free port), for a node that needs nothing else on one
// machine. Shutdown stops it.
func StartServer(host string, port int) (*server.Server, error) {
	s, err := server.NewServer(&server.Options{Host: host, Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("cluster: nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("cluster: nats server on %s:%d not ready in 10 s", host, port)
	}
	return s, nil
}
