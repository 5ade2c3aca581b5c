// The rendezvous store's address pointing at another service: one clear UserError, not a crash.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "comm/tcp_store.h"
#include "core/errors.h"

namespace alexnet {
namespace {

TEST(StoreAddress, AnotherServiceOnThePortIsAUserError) {
  // A stand-in for a web server on the port: it answers whatever it is sent with HTTP.
  const int server = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(server, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(server, 4), 0);
  socklen_t length = sizeof addr;
  ASSERT_EQ(getsockname(server, reinterpret_cast<sockaddr*>(&addr), &length), 0);
  const int port = ntohs(addr.sin_port);
  std::thread web([server] {
    const int client = accept(server, nullptr, nullptr);
    if (client < 0) return;
    char request[256];
    (void)!recv(client, request, sizeof request, 0);
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)!send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    close(client);
  });
  std::string message;
  try {
    TcpStore store("127.0.0.1", port, /*rank=*/1, /*world_size=*/2, /*towers=*/2, std::chrono::seconds(3));
  } catch (const UserError& e) {
    message = e.what();
  }
  web.join();
  close(server);
  EXPECT_NE(message.find("is not alexnet's rendezvous store"), std::string::npos) << message;
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
}

}  // namespace
}  // namespace alexnet
