package sbemu_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/ffbatch/ffbatch/emulators/sbemu"
)

// Example runs the emulator in-process with the built-in entities and
// uses the unchanged azservicebus client against it.
func Example() {
	srv, err := sbemu.NewServer(nil) // the local stack's entities, in memory
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.ServeAMQP(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer srv.Close(ctx)

	conn := "Endpoint=sb://" + ln.Addr().String() +
		";SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
	client, err := azservicebus.NewClientFromConnectionString(conn, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(ctx)
	sender, err := client.NewSender("arrivals", nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := sender.SendMessage(ctx, &azservicebus.Message{Body: []byte("hello")}, nil); err != nil {
		log.Fatal(err)
	}
	receiver, err := client.NewReceiverForQueue("arrivals", nil)
	if err != nil {
		log.Fatal(err)
	}
	msgs, err := receiver.ReceiveMessages(ctx, 1, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := receiver.CompleteMessage(ctx, msgs[0], nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (delivery %d)\n", msgs[0].Body, msgs[0].DeliveryCount)
	// Output: hello (delivery 1)
}
