// Package deploy holds no code: it is the home of the deployment files
// (compose.yaml's Dockerfile and configuration, the local stack's scripts
// under local/) and of the tests that check them without a Docker engine.
package deploy
