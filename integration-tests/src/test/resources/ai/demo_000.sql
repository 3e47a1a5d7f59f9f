-- Seed 000 (TiDB Vector Search + Amazon Bedrock) as plain SQL through ragproxy.
-- ${DIM} is 384 on the local defaults (all-MiniLM-L6-v2) and 512 for Titan Text Embeddings V2 (dimensions 512).
CREATE TABLE embedded_documents (id INT PRIMARY KEY AUTO_INCREMENT, content TEXT, embedding VECTOR(${DIM}));
INSERT INTO embedded_documents (content, embedding) VALUES
  ('TiDB is a distributed SQL database compatible with MySQL.', EMBED('TiDB is a distributed SQL database compatible with MySQL.')),
  ('TiDB supports Hybrid Transactional and Analytical Processing (HTAP).', EMBED('TiDB supports Hybrid Transactional and Analytical Processing (HTAP).')),
  ('TiDB can scale horizontally and provides high availability.', EMBED('TiDB can scale horizontally and provides high availability.')),
  ('Amazon Bedrock allows seamless integration with foundation models.', EMBED('Amazon Bedrock allows seamless integration with foundation models.')),
  ('Meta Llama 3 is a powerful model for text generation.', EMBED('Meta Llama 3 is a powerful model for text generation.'));
SELECT content, VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) AS distance
  FROM embedded_documents ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 3;
SELECT content, VEC_EMBED_COSINE_DISTANCE(embedding, 'What is TiDB?') AS distance
  FROM embedded_documents ORDER BY distance LIMIT 3;
SET @context = (SELECT GROUP_CONCAT(content SEPARATOR '\n') FROM
  (SELECT content FROM embedded_documents ORDER BY VEC_COSINE_DISTANCE(embedding, EMBED('What is TiDB?')) LIMIT 3) t);
SELECT GENERATE(CONCAT('ONLY use the content below to generate an answer:\n', @context,
  '\n----\nPlease carefully think about the question: What is TiDB?')) AS answer;
