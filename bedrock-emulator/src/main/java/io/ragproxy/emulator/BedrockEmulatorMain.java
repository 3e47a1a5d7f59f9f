package io.ragproxy.emulator;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link BedrockEmulator} from the command line, so a person can try ragproxy's Bedrock configuration
 * offline: point {@code [models.bedrock] endpoint_override} at the printed address.
 *
 * <pre>
 * bin/bedrock-emulator --port 8599 --latency-ms 150 --jitter-ms 50 --throttle-rpm 3000
 * </pre>
 */
public final class BedrockEmulatorMain {

    private BedrockEmulatorMain() {
    }

    private static final String USAGE = """
            usage: bedrock-emulator [options]
              --host ADDR             address to bind (default 127.0.0.1)
              --port N                port (default 8599; 0 picks a free one)
              --threads N             requests served at once (default 256)
              --latency-ms N          fixed delay of every answer (default 0)
              --jitter-ms N           extra random delay, 0..N ms (default 0)
              --throttle-rate F       fraction 0..1 of requests answered 429 ThrottlingException
              --throttle-rpm N        requests per minute beyond which 429 ThrottlingException is answered
              --throttle-rps N        a token-bucket quota: N requests per second (bursts of one second's worth)
              --error-rate KIND=F     fraction of requests failing with KIND (repeatable)
              --fail-marker TEXT=KIND requests whose body contains TEXT fail with KIND (repeatable)
              --fail-next N=KIND      the first N requests fail with KIND
              KIND: throttling, model-not-ready, model-timeout, validation, access-denied, internal,
                    service-unavailable, model-error, malformed-response
            """;

    public static void main(String[] args) throws InterruptedException {
        BedrockEmulator.Builder b = BedrockEmulator.builder().port(8599);
        java.util.List<Runnable> after = new java.util.ArrayList<>();
        BedrockEmulator[] holder = new BedrockEmulator[1];
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    System.out.print(USAGE);
                    return;
                }
                String v;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0 && !a.startsWith("--error-rate") && !a.startsWith("--fail-")) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("missing value after " + a);
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--host" -> b.host(v);
                    case "--port" -> b.port(Integer.parseInt(v));
                    case "--threads" -> b.threads(Integer.parseInt(v));
                    case "--latency-ms" -> b.latency(Duration.ofMillis(Long.parseLong(v)));
                    case "--jitter-ms" -> b.jitter(Duration.ofMillis(Long.parseLong(v)));
                    case "--throttle-rate" -> b.throttleRate(Double.parseDouble(v));
                    case "--throttle-rpm" -> b.throttleRpm(Integer.parseInt(v));
                    case "--throttle-rps" -> b.throttleQuota(Double.parseDouble(v));
                    case "--error-rate" -> {
                        String[] kv = split(v, a);
                        after.add(() -> holder[0].setErrorRate(EmulatedError.parse(kv[0]), Double.parseDouble(kv[1])));
                    }
                    case "--fail-marker" -> {
                        String[] kv = split(v, a);
                        after.add(() -> holder[0].failWhenInputContains(kv[0], EmulatedError.parse(kv[1])));
                    }
                    case "--fail-next" -> {
                        String[] kv = split(v, a);
                        after.add(() -> holder[0].failNext(Integer.parseInt(kv[0]), EmulatedError.parse(kv[1])));
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("bedrock-emulator: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        BedrockEmulator emu = b.start();
        holder[0] = emu;
        after.forEach(Runnable::run);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            emu.close();
            stopped.countDown();
        }, "bedrock-emulator-shutdown"));
        System.out.println("bedrock-emulator listening on " + emu.endpoint()
                + "  (set [models.bedrock] endpoint_override = \"" + emu.endpoint() + "\"; any credentials are accepted)");
        stopped.await();
    }

    private static String[] split(String v, String flag) {
        int eq = v.lastIndexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException(flag + " expects A=B, got " + v);
        }
        return new String[] {v.substring(0, eq), v.substring(eq + 1)};
    }
}
