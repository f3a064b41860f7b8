package sqsfake

import (
	"fmt"
)

// apiError is an SQS error response.
type apiError struct {
	status int
	// typ is the __type of the JSON body: a shape id such as
	// com.amazonaws.sqs#QueueDoesNotExist.
	typ string
	// queryCode is the legacy query-protocol code sent in
	// x-amzn-query-error, which the SDK reports as the error code.
	queryCode string
	message   string
}

func (e *apiError) Error() string { return e.queryCode + ": " + e.message }

func errQueueDoesNotExist() *apiError {
	return &apiError{400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."}
}

func errQueueNameExists(name string) *apiError {
	return &apiError{400, "com.amazonaws.sqs#QueueNameExists", "QueueAlreadyExists", fmt.Sprintf("A queue already exists with the same name %q and a different value for attribute(s).", name)}
}

func errReceiptHandleIsInvalid(h string) *apiError {
	return &apiError{404, "com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", h)}
}

func errMessageNotInflight() *apiError {
	return &apiError{400, "com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight."}
}

func errInvalidParameterValue(format string, args ...any) *apiError {
	return &apiError{400, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

func errMissingParameter(name string) *apiError {
	return &apiError{400, "com.amazonaws.sqs#MissingParameter", "MissingParameter", fmt.Sprintf("The request must contain the parameter %s.", name)}
}

func errInvalidAttributeName(name string) *apiError {
	return &apiError{400, "com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName", fmt.Sprintf("Unknown Attribute %s.", name)}
}

func errInvalidAttributeValue(name, value string) *apiError {
	return &apiError{400, "com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue", fmt.Sprintf("Invalid value for the parameter %s: %q.", name, value)}
}

func errInvalidMessageContents() *apiError {
	return &apiError{400, "com.amazonaws.sqs#InvalidMessageContents", "InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"}
}

func errEmptyBatchRequest() *apiError {
	return &apiError{400, "com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one entry in the request."}
}

func errTooManyEntries(n int) *apiError {
	return &apiError{400, "com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, n)}
}

func errBatchEntryIdsNotDistinct(id string) *apiError {
	return &apiError{400, "com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", fmt.Sprintf("Id %s repeated.", id)}
}

func errInvalidBatchEntryID() *apiError {
	return &apiError{400, "com.amazonaws.sqs#InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long."}
}
