package io.ragproxy.catalog.local;

import java.util.List;

/** The example data of seed 000 (and a Chinese rendering in the spirit of seed 001), shared by the tests. */
final class Seeds {

    static final String QUESTION = "What is TiDB?";
    static final String TIDB = "TiDB is a distributed SQL database compatible with MySQL.";
    static final List<String> CONTENTS = List.of(
            TIDB,
            "TiDB supports Hybrid Transactional and Analytical Processing (HTAP).",
            "TiDB can scale horizontally and provides high availability.",
            "Amazon Bedrock allows seamless integration with foundation models.",
            "Meta Llama 3 is a powerful model for text generation.");

    static final String QUESTION_ZH = "TiDB 是什么？";
    static final String TIDB_ZH = "TiDB 是一个兼容 MySQL 的分布式 SQL 数据库。";
    static final List<String> CONTENTS_ZH = List.of(
            TIDB_ZH,
            "TiDB 支持混合事务和分析处理（HTAP）。",
            "TiDB 可以水平扩展并提供高可用性。",
            "Amazon Bedrock 可以与基础模型无缝集成。",
            "Meta Llama 3 是一个强大的文本生成模型。");

    /** A sentence of seed 001 itself. */
    static final String SEED_001_SENTENCE =
            "本教程演示如何将 TiDB 的向量检索功能与 Amazon Bedrock 集成，构建基于检索增强生成（RAG）的问答机器人。";

    private Seeds() {
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
