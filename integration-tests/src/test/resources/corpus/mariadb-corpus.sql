-- ragproxy CLI corpus for MariaDB 11.8: run once directly and once through the proxy; outputs must match.
-- Deterministic on purpose: no NOW(), CONNECTION_ID(), RAND(), UUID(), server version or timing output.
-- @@DATAFILE@@ is replaced with the path of a small CSV file the test writes.

-- ===== DDL =====
CREATE TABLE authors (
  id INT PRIMARY KEY AUTO_INCREMENT,
  name VARCHAR(64) NOT NULL,
  country CHAR(2) NOT NULL DEFAULT 'US',
  UNIQUE KEY uk_name (name)
) ENGINE=InnoDB;
CREATE TABLE books (
  id INT PRIMARY KEY AUTO_INCREMENT,
  author_id INT NOT NULL,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(8,2),
  published DATE,
  tags JSON,
  KEY idx_author (author_id),
  CONSTRAINT fk_author FOREIGN KEY (author_id) REFERENCES authors (id)
);
CREATE TABLE short_codes (code VARCHAR(4) NOT NULL, n TINYINT);
CREATE TABLE docs (
  id INT PRIMARY KEY,
  body TEXT,
  emb VECTOR(3) NOT NULL,
  VECTOR INDEX (emb)
);
CREATE TABLE ledger (id INT PRIMARY KEY AUTO_INCREMENT, amount INT NOT NULL);
-- Columns whose names are AI function names, used without a call: must pass through untouched.
CREATE TABLE notes (id INT PRIMARY KEY, embed VARCHAR(20), answer TEXT, `generate` INT);
ALTER TABLE authors ADD COLUMN born SMALLINT NULL AFTER name;
ALTER TABLE ledger ADD COLUMN memo VARCHAR(30) DEFAULT 'n/a';
CREATE VIEW book_view AS SELECT b.title, a.name AS author FROM books b JOIN authors a ON a.id = b.author_id;
CREATE TEMPORARY TABLE scratch (k INT, v VARCHAR(10));

-- ===== DML =====
INSERT INTO authors (name, born, country) VALUES ('Ursula K. Le Guin', 1929, 'US'), ('Stanisław Lem', 1921, 'PL'), ('Liu Cixin', 1963, 'CN');
INSERT INTO authors (name, born, country) VALUES ('Octavia E. Butler', 1947, 'US');
SELECT LAST_INSERT_ID(), ROW_COUNT();
INSERT INTO books (author_id, title, price, published, tags) VALUES
  (1, 'The Left Hand of Darkness', 9.99, '1969-03-01', '["hainish","classic"]'),
  (1, 'The Dispossessed', 10.50, '1974-05-01', '["hainish"]'),
  (2, 'Solaris', 8.75, '1961-01-01', '["ocean","classic"]'),
  (3, '三体', 12.00, '2008-01-01', '["trisolaris"]'),
  (3, 'The Wandering Earth', 7.25, '2000-07-01', NULL),
  (4, 'Kindred', 11.00, '1979-06-01', '["classic"]');
SELECT ROW_COUNT();
UPDATE books SET price = price + 1 WHERE author_id = 1;
SELECT ROW_COUNT();
DELETE FROM books WHERE title = 'no such title';
SELECT ROW_COUNT();
UPDATE authors SET name = 'Octavia Estelle Butler' WHERE id = 4;
INSERT INTO ledger (amount) VALUES (10), (20), (30);
REPLACE INTO ledger (id, amount) VALUES (3, 33), (4, 40);
INSERT INTO ledger (id, amount) VALUES (1, 5) ON DUPLICATE KEY UPDATE amount = amount + VALUES(amount);
SELECT * FROM ledger ORDER BY id;
INSERT INTO scratch VALUES (1, 'one'), (2, 'two');
SELECT * FROM scratch ORDER BY k;
INSERT INTO notes VALUES (1, 'EMBED(x)', 'GENERATE(''y'')', 3), (2, 'plain', 'ANSWER(q, c) is text here', 4);

-- ===== queries, joins, aggregates =====
SELECT id, name, born, country FROM authors ORDER BY id;
SELECT b.title, a.name FROM books b JOIN authors a ON a.id = b.author_id ORDER BY b.id;
SELECT a.name, COUNT(b.id) AS n, SUM(b.price) AS total FROM authors a LEFT JOIN books b ON b.author_id = a.id GROUP BY a.id, a.name ORDER BY a.id;
SELECT a.country, COUNT(*) FROM authors a GROUP BY a.country WITH ROLLUP;
SELECT title FROM books WHERE author_id IN (SELECT id FROM authors WHERE country = 'US') ORDER BY title;
SELECT title, price FROM books WHERE price BETWEEN 8 AND 11 ORDER BY price DESC, title;
SELECT a.name FROM authors a WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.author_id = a.id AND b.price > 11) ORDER BY a.name;
SELECT title, ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY published) AS nth, RANK() OVER (ORDER BY price DESC) AS price_rank FROM books ORDER BY id;
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10) SELECT GROUP_CONCAT(n ORDER BY n SEPARATOR ',') FROM seq;
SELECT title, JSON_EXTRACT(tags, '$[0]') AS first_tag, JSON_LENGTH(tags) AS n_tags FROM books ORDER BY id;
SELECT JSON_OBJECT('title', title, 'price', price) FROM books WHERE id = 3;
SELECT * FROM book_view ORDER BY title;
SELECT title FROM books ORDER BY id LIMIT 2 OFFSET 2;
SELECT UPPER(name), LENGTH(name), CHAR_LENGTH(name), HEX(name) FROM authors WHERE id = 2;
SELECT CONCAT_WS('-', 'a', NULL, 'b'), COALESCE(NULL, NULL, 'z'), IFNULL(NULL, 0), NULLIF(1, 1);
SELECT CAST('2024-02-29' AS DATE) + INTERVAL 1 YEAR, DATE_FORMAT('2024-12-31 23:59:58', '%Y/%m/%d %H:%i:%s'), DATEDIFF('2024-03-01', '2024-02-01');
SELECT 1 + 1, 7 DIV 2, 7 % 3, 2 * 3.5, 10 / 4, ROUND(2.675, 2), TRUNCATE(-1.999, 1), POW(2, 10);
SELECT CASE WHEN price > 10 THEN 'dear' ELSE 'cheap' END AS band, COUNT(*) FROM books GROUP BY band ORDER BY band;
SELECT x.id, y.id FROM (SELECT 1 AS id UNION SELECT 2) x CROSS JOIN (SELECT 10 AS id UNION SELECT 20) y ORDER BY x.id, y.id;
SELECT seq FROM seq_1_to_5 WHERE seq % 2 = 1;
SELECT SUM(seq), COUNT(*) FROM seq_1_to_10000;
SELECT DISTINCT country FROM authors ORDER BY country;
SELECT title FROM books WHERE title LIKE 'The %' ORDER BY title;
SELECT title FROM books WHERE title REGEXP '^[KS]' ORDER BY title;
SELECT a.name, b.title FROM authors a RIGHT JOIN books b ON a.id = b.author_id AND a.country = 'PL' ORDER BY b.id;
UPDATE books b JOIN authors a ON a.id = b.author_id SET b.price = b.price * 2 WHERE a.country = 'PL';
SELECT title, price FROM books WHERE author_id = 2;
SELECT id, embed, answer, `generate` FROM notes ORDER BY id;
SELECT 'EMBED(''not a call'')' AS in_string, "GENERATE(x)" AS in_double_quotes;
SELECT 1 AS one /* ANSWER(q, c) in a block comment */;
SELECT 2 AS two -- EMBED('in a line comment')
;
SELECT 3 AS three # GENERATE('in a hash comment')
;
SELECT embed FROM notes WHERE embed = 'EMBED(x)';
/*!40101 SELECT 'executable comment' AS kind */;
/*M!100100 SELECT 'mariadb executable comment' AS kind */;
SELECT 1 /*! + 1 */ AS two;

-- ===== SHOW and information_schema =====
SHOW TABLES;
SHOW FULL TABLES;
SHOW COLUMNS FROM books;
SHOW CREATE TABLE books;
SHOW CREATE TABLE docs;
SHOW CREATE VIEW book_view;
SHOW DATABASES LIKE 'it\_cli%';
SHOW VARIABLES LIKE 'character_set_client';
SHOW VARIABLES LIKE 'autocommit';
SHOW COLLATION LIKE 'utf8mb4_bin';
SHOW CHARACTER SET LIKE 'latin1';
SHOW ENGINES;
SELECT TABLE_NAME, TABLE_TYPE, ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME;
SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION;
SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION;
SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'books' ORDER BY INDEX_NAME, SEQ_IN_INDEX;
SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE();
SELECT DATABASE(), CURRENT_USER(), USER();

-- ===== errors =====
SELECT * FROM no_such_table;
SELEC 1;
SELECT * FROM books WHERE;
INSERT INTO authors (id, name) VALUES (1, 'duplicate id');
INSERT INTO authors (name) VALUES ('Liu Cixin');
INSERT INTO books (author_id, title) VALUES (999, 'orphan');
SELECT no_such_column FROM books;
CREATE TABLE authors (id INT);
DROP TABLE no_such_table;
USE no_such_database_here;
SELECT 'still connected after errors' AS status;

-- ===== warnings =====
INSERT IGNORE INTO short_codes (code, n) VALUES ('ABCDEFGH', 1000);
SHOW WARNINGS;
SELECT @@warning_count;
SELECT * FROM short_codes;
SELECT 1 / 0;
SHOW WARNINGS;
SELECT CAST('12abc' AS SIGNED);
SHOW WARNINGS;
SELECT @@warning_count, @@error_count;
DROP TABLE IF EXISTS no_such_table_either;
SHOW WARNINGS;

-- ===== user variables =====
SET @greeting = 'hello', @n := 41;
SELECT @greeting, @n + 1;
SET @rank = 0;
SELECT @rank := @rank + 1 AS r, title FROM books ORDER BY id LIMIT 3;
SELECT @rank;
SELECT MAX(price) INTO @maxp FROM books;
SELECT @maxp;
SELECT @undefined_variable IS NULL;

-- ===== transactions =====
SELECT COUNT(*) FROM ledger;
BEGIN;
INSERT INTO ledger (amount) VALUES (100), (200);
SELECT COUNT(*), SUM(amount) FROM ledger;
ROLLBACK;
SELECT COUNT(*), SUM(amount) FROM ledger;
START TRANSACTION;
UPDATE ledger SET amount = amount * 10 WHERE id = 2;
SAVEPOINT sp1;
DELETE FROM ledger WHERE id = 3;
ROLLBACK TO SAVEPOINT sp1;
COMMIT;
SELECT id, amount FROM ledger ORDER BY id;
SET autocommit = 0;
INSERT INTO ledger (amount) VALUES (7);
ROLLBACK;
SET autocommit = 1;
SELECT COUNT(*) FROM ledger WHERE amount = 7;
SELECT @@in_transaction;

-- ===== vectors =====
INSERT INTO docs VALUES
  (1, 'red apple', VEC_FromText('[1,0,0]')),
  (2, 'green apple', VEC_FromText('[0.9,0.1,0]')),
  (3, 'blue sky', VEC_FromText('[0,0,1]')),
  (4, 'ocean', VEC_FromText('[0,0.2,0.98]')),
  (5, 'forest', VEC_FromText('[0,1,0]'));
SELECT id, body, VEC_ToText(emb) FROM docs ORDER BY id;
SELECT id, body, ROUND(VEC_DISTANCE_COSINE(emb, VEC_FromText('[1,0.05,0]')), 6) AS d FROM docs ORDER BY VEC_DISTANCE_COSINE(emb, VEC_FromText('[1,0.05,0]')) LIMIT 3;
SELECT id, body FROM docs ORDER BY VEC_DISTANCE_EUCLIDEAN(emb, VEC_FromText('[0,0.1,1]')) LIMIT 2;
SELECT id, HEX(emb) FROM docs WHERE id = 1;
UPDATE docs SET emb = VEC_FromText('[0.5,0.5,0]') WHERE id = 5;
SELECT VEC_ToText(emb) FROM docs WHERE id = 5;
INSERT INTO docs VALUES (6, 'wrong dimension', VEC_FromText('[1,2]'));

-- ===== utf8mb4 =====
CREATE TABLE intl (id INT PRIMARY KEY, s VARCHAR(100)) DEFAULT CHARSET = utf8mb4;
INSERT INTO intl VALUES (1, '你好，世界'), (2, 'emoji 🚀🎉👩‍💻'), (3, 'Ελληνικά и кириллица'), (4, 'مرحبا');
SELECT id, s, CHAR_LENGTH(s), LENGTH(s), HEX(s) FROM intl ORDER BY id;
SELECT s FROM intl WHERE s LIKE '%🚀%';
SELECT title FROM books WHERE title = '三体';

-- ===== LOAD DATA LOCAL INFILE =====
CREATE TABLE imported (id INT PRIMARY KEY, label VARCHAR(40), qty INT);
LOAD DATA LOCAL INFILE '@@DATAFILE@@' INTO TABLE imported FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\n' IGNORE 1 LINES (id, label, qty);
SELECT ROW_COUNT();
SELECT id, label, qty FROM imported ORDER BY id;
SELECT COUNT(*), SUM(qty) FROM imported;

-- ===== multi-statements (one COM_QUERY with several statements) =====
DELIMITER //
SELECT 'first' AS part; SELECT 'second' AS part, 2 AS n; UPDATE ledger SET memo = 'multi' WHERE id = 1; SELECT memo FROM ledger WHERE id = 1 //
SELECT 'before error' AS part; SELECT * FROM missing_in_multi; SELECT 'never reached' //
DELIMITER ;
SELECT 'a' AS x; SELECT 'b' AS y; SELECT 'c' AS z;

-- ===== stored procedures, functions, triggers =====
DELIMITER //
CREATE PROCEDURE two_results(IN min_price DECIMAL(8,2))
BEGIN
  SELECT title FROM books WHERE price >= min_price ORDER BY title;
  SELECT COUNT(*) AS n FROM authors;
  SELECT 'done' AS status;
END //
CREATE FUNCTION shout(s VARCHAR(50)) RETURNS VARCHAR(60) DETERMINISTIC RETURN CONCAT(UPPER(s), '!') //
CREATE PROCEDURE add_ledger(IN a INT, OUT new_total INT)
BEGIN
  INSERT INTO ledger (amount) VALUES (a);
  SELECT SUM(amount) INTO new_total FROM ledger;
END //
DELIMITER ;
CALL two_results(10);
SELECT shout('quiet');
CALL add_ledger(1000, @total);
SELECT @total;
CREATE TRIGGER ledger_memo BEFORE INSERT ON ledger FOR EACH ROW SET NEW.memo = CONCAT('auto-', NEW.amount);
INSERT INTO ledger (amount) VALUES (55);
SELECT amount, memo FROM ledger WHERE amount = 55;
SHOW CREATE FUNCTION shout;
SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME;
CALL no_such_procedure();

-- ===== prepared statements (SQL level) =====
PREPARE by_author FROM 'SELECT title FROM books WHERE author_id = ? ORDER BY id';
SET @aid = 1;
EXECUTE by_author USING @aid;
SET @aid = 3;
EXECUTE by_author USING @aid;
EXECUTE by_author USING 2;
DEALLOCATE PREPARE by_author;
EXECUTE by_author USING @aid;
PREPARE ins FROM 'INSERT INTO scratch VALUES (?, ?)';
EXECUTE ins USING 3, 'three';
SELECT * FROM scratch ORDER BY k;
EXECUTE IMMEDIATE 'SELECT ? * 2 AS doubled' USING 21;

-- ===== misc =====
EXPLAIN SELECT 1;
DO 1 + 1;
SELECT VERSION() LIKE '%MariaDB%' AS is_mariadb;
SET NAMES utf8mb4;
SELECT @@session.sql_mode LIKE '%STRICT_TRANS_TABLES%';
SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
INSERT INTO short_codes (code, n) VALUES ('TOOLONG', 1);
SET SESSION sql_mode = DEFAULT;
TRUNCATE TABLE scratch;
SELECT COUNT(*) FROM scratch;
RENAME TABLE short_codes TO codes;
SELECT code, n FROM codes ORDER BY code;
CHECKSUM TABLE codes;
DROP VIEW book_view;
DROP TRIGGER ledger_memo;
DROP TABLE intl, imported;
SHOW TABLES;
SELECT 'end of corpus' AS marker;
