package simulate

import "os"

func testOut() string { return os.Getenv("SIM_OUT") }
