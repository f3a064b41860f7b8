package awscfg

import (
	"github.com/trailwatch/trailwatch/internal/configtest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwatch/trailwatch/internal/sqsfake"
)

func TestSQSConfigValidate(t *testing.T) {
	configtest.Validate(t, DefaultConfig, (*Config).Validate, []configtest.Case[Config]{
		{Name: "default", Mutate: func(*Config) {}, WantErr: ""},
		{Name: "sqs endpoint", Mutate: func(c *Config) { c.SQSEndpoint = "https://sqs.eu-west-1.example.internal" }, WantErr: ""},
		{Name: "sqs endpoint not a url", Mutate: func(c *Config) { c.SQSEndpoint = "sqs.local:4566" }, WantErr: "s3.sqs_endpoint"},
		{Name: "sqs endpoint without host", Mutate: func(c *Config) { c.SQSEndpoint = "http://" }, WantErr: "s3.sqs_endpoint"},
		{Name: "s3 endpoint still checked", Mutate: func(c *Config) { c.Endpoint = "ftp://minio" }, WantErr: "s3.endpoint"},
	})
}

// TestSQSClient builds the SQS client from configuration and round-trips
// a message through a fake SQS endpoint, signed with the configured
// credentials; the S3 endpoint must not redirect it.
func TestSQSClient(t *testing.T) {
	srv := sqsfake.New()
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.Endpoint = "http://127.0.0.1:1" // an S3 server: not for SQS
	cfg.SQSEndpoint = srv.URL()
	cfg.AccessKeyID, cfg.SecretAccessKey = "AKIDTEST", "secret"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cl, err := cfg.SQS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("objects")})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	if _, err := cl.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"hello":1}`)}); err != nil {
		t.Fatalf("send: %v", err)
	}
	out, err := cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"hello":1}` {
		t.Fatalf("received %+v, want the message sent", out.Messages)
	}
}
