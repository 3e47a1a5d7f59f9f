/**
 * Deterministic text chunking for {@code CHUNK_TEXT()}: a recursive splitter over paragraphs, lines, sentences and
 * words, sized in Unicode code points or in tokens of a {@link io.ragproxy.catalog.chunk.TokenCounter}.
 */
package io.ragproxy.catalog.chunk;
