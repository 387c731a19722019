module chaoslab.local/pause

go 1.21
