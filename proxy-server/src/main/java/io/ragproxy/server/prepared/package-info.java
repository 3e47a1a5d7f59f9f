/**
 * The prepared statements the proxy owns on a connection (those whose text calls an AI function): their registry,
 * their text with its {@code ?} placeholders, and the binding of the client's binary parameters as SQL literals.
 */
package io.ragproxy.server.prepared;
