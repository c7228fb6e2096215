package protocol

import "testing"

func TestFromServicePort(t *testing.T) {
	tests := []struct {
		name                     string
		number                   int32
		portName, transport, app string
		want                     string
	}{
		{"name prefix http", 8000, "http", "TCP", "", HTTP},
		{"name prefix with suffix", 8000, "http-web", "", "", HTTP},
		{"name prefix case-insensitive", 8000, "GRPC-api", "", "", GRPC},
		{"grpc-web before the dash split", 8000, "grpc-web-x", "", "", GRPCWeb},
		{"appProtocol wins over name", 8000, "tcp-x", "", "http2", HTTP2},
		{"kubernetes h2c", 8000, "", "", "kubernetes.io/h2c", HTTP2},
		{"kubernetes ws", 8000, "", "", "kubernetes.io/ws", HTTP},
		{"kubernetes wss", 8000, "", "", "kubernetes.io/wss", HTTPS},
		{"udp transport", 53, "dns", "UDP", "", UDP},
		{"udp name prefix is not udp", 9000, "udp-x", "TCP", "", Unknown},
		{"unnamed unknown port sniffs", 9000, "", "TCP", "", Unknown},
		{"unknown name on well-known port is TCP", 3306, "db", "TCP", "", TCP},
		{"mongo canonical case", 27017, "mongo", "", "", Mongo},
		{"unknown appProtocol falls back to nothing, not the name", 8000, "http", "", "custom", Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromServicePort(tc.number, tc.portName, tc.transport, tc.app); got != tc.want {
				t.Errorf("FromServicePort(%d, %q, %q, %q) = %q, want %q", tc.number, tc.portName, tc.transport, tc.app, got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	if p, ok := Parse("http2"); !ok || p != HTTP2 {
		t.Errorf("Parse(http2) = %q, %v", p, ok)
	}
	if _, ok := Parse("SMTP"); ok {
		t.Error("Parse(SMTP) accepted an unknown protocol")
	}
}
