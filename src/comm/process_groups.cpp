// Connecting the rank grid's groups on Gloo: the address Gloo listens on, the store, the meshes.
#include "comm/process_groups.h"

#include <arpa/inet.h>
#include <glog/logging.h>
#include <gloo/common/error.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "comm/file_store.h"
#include "comm/gloo_communicator.h"
#include "comm/tcp_store.h"
#include "core/errors.h"

namespace alexnet {

ProcessGroups::ProcessGroups() = default;
ProcessGroups::~ProcessGroups() = default;
ProcessGroups::ProcessGroups(ProcessGroups&&) noexcept = default;
ProcessGroups& ProcessGroups::operator=(ProcessGroups&&) noexcept = default;

namespace {

std::string numeric_host(const sockaddr* addr, socklen_t length) {
  char host[NI_MAXHOST];
  if (getnameinfo(addr, length, host, sizeof(host), nullptr, 0, NI_NUMERICHOST) != 0) return "";
  return host;
}

// The IPv4 address of the interface named `iface`.
std::string interface_address(const std::string& iface) {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0)
    throw UserError(std::string("cannot list the network interfaces: ") + std::strerror(errno));
  std::set<std::string> names;
  std::string address;
  bool found = false;
  for (ifaddrs* i = all; i != nullptr; i = i->ifa_next) {
    names.insert(i->ifa_name);
    if (iface != i->ifa_name) continue;
    found = true;
    if (address.empty() && i->ifa_addr != nullptr && i->ifa_addr->sa_family == AF_INET)
      address = numeric_host(i->ifa_addr, sizeof(sockaddr_in));
  }
  freeifaddrs(all);
  if (!found) {
    std::string list;
    for (const std::string& n : names) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    throw UserError("--iface / GLOO_SOCKET_IFNAME: no network interface '" + iface +
                    "' on this machine (it has " + list + ")");
  }
  if (address.empty())
    throw UserError("--iface / GLOO_SOCKET_IFNAME: the network interface '" + iface +
                    "' has no IPv4 address");
  return address;
}

// The local address the kernel would send from to reach `host`: connecting a UDP socket sends
// nothing but picks the route.
std::string route_address(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    throw UserError("cannot resolve the rendezvous store's host '" + host +
                    "' (MASTER_ADDR/--store-host): " + gai_strerror(rc));
  }
  std::string address, why = "no address";
  for (addrinfo* a = found; a != nullptr && address.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
      address = numeric_host(reinterpret_cast<sockaddr*>(&local), length);
    } else {
      why = std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (address.empty()) {
    throw UserError("no route from this machine to the rendezvous store's host '" + host + "': " + why +
                    " (name the interface to use with --iface or GLOO_SOCKET_IFNAME)");
  }
  return address;
}

// One group's mesh. Its keys in the store are prefixed by the group's name and members, so that
// the meshes of different groups (and of different tower groups) never read each other's.
std::unique_ptr<Communicator> connect_group(const std::string& name, const RankGroup& members,
                                            const std::shared_ptr<Rendezvous>& store,
                                            std::shared_ptr<gloo::transport::Device>& device,
                                            std::chrono::milliseconds timeout) {
  GlooGroup group{name, members, nullptr, store, timeout};
  if (members.size() == 1) return make_gloo_communicator(std::move(group));
  std::string prefix = name + "[";
  for (size_t i = 0; i < members.ranks.size(); ++i) {
    if (i > 0) prefix += ',';
    prefix += std::to_string(members.ranks[i]);
  }
  prefix += ']';
  try {
    auto context = std::make_shared<gloo::rendezvous::Context>(members.index, members.size());
    context->setTimeout(timeout);
    gloo::rendezvous::PrefixStore prefixed(prefix, *store);
    context->connectFullMesh(prefixed, device);
    group.context = context;
  } catch (const StoreTimeout& e) {
    throw PeerLost(describe_peer_failure(*store, group, "set-up", /*timed_out=*/true, e.what()));
  } catch (const gloo::Exception& e) {
    throw PeerLost(describe_peer_failure(*store, group, "set-up", /*timed_out=*/false, e.what()));
  }
  return make_gloo_communicator(std::move(group));
}

}  // namespace

ProcessGroups connect_cpu_groups(const LaunchInfo& launch, const RankGrid& grid,
                                 const ProcessOptions& options) {
  CHECK_GT(launch.world_size, 1) << "one process has no groups to connect";
  CHECK(grid.world_size == launch.world_size && grid.rank == launch.rank) << "the grid is not this launch's";
  // The address first: a mistyped interface should fail at once, not after the others wait.
  const bool one_host = !launch.store_dir.empty();
  const std::string address = !options.iface.empty() ? interface_address(options.iface)
                              : one_host             ? "127.0.0.1"
                                                     : route_address(launch.store_host, launch.store_port);
  // Gloo writes with writev(), which cannot pass MSG_NOSIGNAL: a write to a peer that was killed
  // raises SIGPIPE, whose default action would end this rank at once with no message (and the
  // store would count it lost too). Ignored, the write fails with EPIPE and Gloo throws, which
  // becomes PeerLost naming the rank that was really lost.
  signal(SIGPIPE, SIG_IGN);
  ProcessGroups groups;
  groups.grid = grid;
  if (one_host) {
    groups.store = std::make_shared<FileRendezvous>(launch.store_dir, grid.rank, grid.world_size, grid.towers,
                                                    options.timeout);
  } else {
    groups.store = std::make_shared<TcpStore>(launch.store_host, launch.store_port, grid.rank,
                                              grid.world_size, grid.towers, options.timeout);
  }
  groups.store->wait_for_all_ranks();

  gloo::transport::tcp::attr attr;
  attr.hostname = address;
  std::shared_ptr<gloo::transport::Device> device = gloo::transport::tcp::CreateDevice(attr);
  // Every rank connects the groups in the same order: each mesh's set-up waits for its peers.
  groups.tower = connect_group("tower", grid.tower_group, groups.store, device, options.timeout);
  groups.replica = connect_group("replica", grid.replica_group, groups.store, device, options.timeout);
  groups.world = connect_group("world", grid.world_group, groups.store, device, options.timeout);
  return groups;
}

}  // namespace alexnet
