/** How the proxy's sockets are driven: Netty's native epoll transport where it loads, NIO otherwise. */
package io.ragproxy.server.net;
