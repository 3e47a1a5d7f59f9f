package io.ragproxy.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the unpacked {@code mariadb} command-line client (through {@code bin/local-backend mariadb}). */
public final class MariadbCli {
    private MariadbCli() {}

    /** What one run printed. */
    public record Result(int exitCode, String stdout, String stderr) {
        public String describe() {
            return "exit " + exitCode + "\n--- stdout (first 2000 chars) ---\n" + head(stdout) + "\n--- stderr ---\n"
                    + head(stderr);
        }

        private static String head(String s) {
            return s.length() <= 2000 ? s : s.substring(0, 2000) + "\n…";
        }
    }

    /** Connection options for {@code host:port} as root without TLS, utf8mb4, no option files. */
    public static List<String> connectArgs(String host, int port, String user, String password) {
        List<String> args = new ArrayList<>(List.of("--no-defaults", "--protocol=TCP", "-h" + host, "-P" + port,
                "-u" + user, "--default-character-set=utf8mb4", "--connect-timeout=10"));
        if (password != null && !password.isEmpty()) {
            args.add("-p" + password);
        }
        return args;
    }

    /** Runs the CLI with {@code args}, feeding {@code stdin} (or nothing), and waits at most {@code timeout}. */
    public static Result run(List<String> args, Path stdin, Duration timeout) throws IOException, InterruptedException {
        return run(args, stdin, timeout, null);
    }

    /**
     * As {@link #run(List, Path, Duration)}, in the working folder {@code directory} (null: this process's), where
     * the CLI finds the files a {@code LOAD DATA LOCAL INFILE} names by a relative path.
     */
    public static Result run(List<String> args, Path stdin, Duration timeout, Path directory)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("mariadb-cli", ".out");
        Path err = Files.createTempFile("mariadb-cli", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(LocalBackend.mariadbCommand(args))
                    .redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile())
                            : ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().put("LC_ALL", "C.UTF-8");
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("mariadb " + String.join(" ", args) + " did not finish within " + timeout
                        + "\nstdout so far:\n" + new String(Files.readAllBytes(out), StandardCharsets.UTF_8)
                        + "\nstderr so far:\n" + new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
            }
            // Lenient decoding: a binary column's bytes must not make the comparison itself fail.
            return new Result(p.exitValue(), new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
                    new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
