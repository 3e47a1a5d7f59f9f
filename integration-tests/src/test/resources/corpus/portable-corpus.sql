-- ragproxy reduced CLI corpus: SQL that TiDB 8.5, MySQL 8.4 and MariaDB 11.8 all accept (each backend's own
-- output is compared with itself through the proxy, so dialect differences in the answers do not matter).
-- Deterministic: no NOW(), CONNECTION_ID(), RAND(), server version or timing output.

CREATE TABLE authors (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, country CHAR(2) NOT NULL DEFAULT 'US', UNIQUE KEY uk_name (name));
CREATE TABLE books (id INT PRIMARY KEY, author_id INT NOT NULL, title VARCHAR(200) NOT NULL, price DECIMAL(8,2), published DATE, tags JSON, KEY idx_author (author_id));
CREATE TABLE short_codes (code VARCHAR(4) NOT NULL, n TINYINT);
CREATE TABLE ledger (id INT PRIMARY KEY, amount INT NOT NULL);
CREATE TABLE notes (id INT PRIMARY KEY, embed VARCHAR(20), answer TEXT);
ALTER TABLE ledger ADD COLUMN memo VARCHAR(30) DEFAULT 'n/a';
CREATE VIEW book_view AS SELECT b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;

INSERT INTO authors VALUES (1, 'Ursula K. Le Guin', 'US'), (2, 'Stanisław Lem', 'PL'), (3, 'Liu Cixin', 'CN'), (4, 'Octavia E. Butler', 'US');
SELECT ROW_COUNT();
INSERT INTO books VALUES
  (1, 1, 'The Left Hand of Darkness', 9.99, '1969-03-01', '["hainish","classic"]'),
  (2, 1, 'The Dispossessed', 10.50, '1974-05-01', '["hainish"]'),
  (3, 2, 'Solaris', 8.75, '1961-01-01', '["ocean","classic"]'),
  (4, 3, '三体', 12.00, '2008-01-01', '["trisolaris"]'),
  (5, 3, 'The Wandering Earth', 7.25, '2000-07-01', NULL),
  (6, 4, 'Kindred', 11.00, '1979-06-01', '["classic"]');
UPDATE books SET price = price + 1 WHERE author_id = 1;
SELECT ROW_COUNT();
INSERT INTO ledger (id, amount) VALUES (1, 10), (2, 20), (3, 30);
INSERT INTO ledger (id, amount) VALUES (1, 5) ON DUPLICATE KEY UPDATE amount = amount + 5;
REPLACE INTO ledger (id, amount) VALUES (3, 33), (4, 40);
SELECT id, amount, memo FROM ledger ORDER BY id;
INSERT INTO notes VALUES (1, 'EMBED(x)', 'GENERATE(''y'')'), (2, 'plain', 'ANSWER(q, c) is text here');

SELECT id, name, country FROM authors ORDER BY id;
SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id ORDER BY b.id;
SELECT a.name, COUNT(b.id) AS n, SUM(b.price) AS total FROM authors a LEFT JOIN books b ON b.author_id = a.id GROUP BY a.id, a.name ORDER BY a.id;
SELECT title FROM books WHERE author_id IN (SELECT id FROM authors WHERE country = 'US') ORDER BY title;
SELECT title, ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY published) AS nth FROM books ORDER BY id;
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10) SELECT SUM(n), COUNT(*) FROM seq;
SELECT title, JSON_EXTRACT(tags, '$[0]') AS first_tag FROM books ORDER BY id;
SELECT * FROM book_view ORDER BY title;
SELECT title FROM books ORDER BY id LIMIT 2 OFFSET 2;
SELECT UPPER(name), LENGTH(name), CHAR_LENGTH(name), HEX(name) FROM authors WHERE id = 2;
SELECT COALESCE(NULL, 'z'), IFNULL(NULL, 0), 7 DIV 2, 7 % 3, ROUND(2.5), DATEDIFF('2024-03-01', '2024-02-01');
SELECT CASE WHEN price > 10 THEN 'dear' ELSE 'cheap' END AS band, COUNT(*) FROM books GROUP BY band ORDER BY band;
SELECT id, embed, answer FROM notes ORDER BY id;
SELECT 'EMBED(''not a call'')' AS in_string;
SELECT 1 AS one /* ANSWER(q, c) in a block comment */;
/*!40101 SELECT 'executable comment' AS kind */;

SHOW TABLES;
SHOW COLUMNS FROM books;
SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME;
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION;
SELECT DATABASE();

SELECT * FROM no_such_table;
SELEC 1;
INSERT INTO authors (id, name) VALUES (1, 'duplicate id');
INSERT INTO authors (id, name) VALUES (9, 'Liu Cixin');
SELECT no_such_column FROM books;
CREATE TABLE authors (id INT);
SELECT 'still connected after errors' AS status;

INSERT IGNORE INTO short_codes (code, n) VALUES ('ABCDEFGH', 1000);
SHOW WARNINGS;
SELECT code, n FROM short_codes;
SELECT CAST('12abc' AS SIGNED);
SHOW WARNINGS;

SET @greeting = 'hello', @n = 41;
SELECT @greeting, @n + 1;
SELECT MAX(price) INTO @maxp FROM books;
SELECT @maxp;

BEGIN;
INSERT INTO ledger (id, amount) VALUES (10, 100), (11, 200);
SELECT COUNT(*), SUM(amount) FROM ledger;
ROLLBACK;
SELECT COUNT(*), SUM(amount) FROM ledger;
START TRANSACTION;
UPDATE ledger SET amount = amount * 10 WHERE id = 2;
COMMIT;
SELECT id, amount FROM ledger ORDER BY id;

CREATE TABLE intl (id INT PRIMARY KEY, s VARCHAR(100)) DEFAULT CHARSET = utf8mb4;
INSERT INTO intl VALUES (1, '你好，世界'), (2, 'emoji 🚀🎉👩‍💻'), (3, 'Ελληνικά и кириллица');
SELECT id, s, CHAR_LENGTH(s), HEX(s) FROM intl ORDER BY id;

DELIMITER //
SELECT 'first' AS part; SELECT 'second' AS part, 2 AS n; UPDATE ledger SET memo = 'multi' WHERE id = 1; SELECT memo FROM ledger WHERE id = 1 //
DELIMITER ;
SELECT 'a' AS x; SELECT 'b' AS y;

PREPARE by_author FROM 'SELECT title FROM books WHERE author_id = ? ORDER BY id';
SET @aid = 1;
EXECUTE by_author USING @aid;
SET @aid = 3;
EXECUTE by_author USING @aid;
DEALLOCATE PREPARE by_author;

DROP VIEW book_view;
TRUNCATE TABLE short_codes;
SELECT COUNT(*) FROM short_codes;
SELECT 'end of corpus' AS marker;
