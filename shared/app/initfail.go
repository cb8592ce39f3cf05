package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

// InitFailed reports that a function could not start and exits with status
// 1. The reason goes to stderr (CloudWatch Logs) and, inside Lambda
// (AWS_LAMBDA_RUNTIME_API set), to the Runtime API's init/error endpoint, so
// the invoker and the console see it instead of a bare Runtime.ExitError.
// Start-up errors name settings, never secret values.
func InitFailed(function string, err error) {
	msg := function + ": " + err.Error()
	fmt.Fprintln(os.Stderr, msg)
	if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
		if err := postInitError(api, msg); err != nil {
			fmt.Fprintln(os.Stderr, function+": report init error: "+err.Error())
		}
	}
	os.Exit(1)
}

// postInitError is the Runtime API's "initialization error" call.
func postInitError(api, msg string) error {
	body, _ := json.Marshal(map[string]any{"errorMessage": msg, "errorType": "Runtime.InitError", "stackTrace": []string{}})
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime api answered %s", resp.Status)
	}
	return nil
}
