package io.ragproxy.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarizes a JFR recording's CPU samples (jdk.ExecutionSample) (JDK 17 has no {@code jfr view}): the top methods by self
 * samples (top frame) and by total samples (anywhere on the stack), as percentages of all samples.
 *
 * <pre>JfrHotMethods FILE.jfr [TOP] [FILTER_PREFIX]</pre>
 */
public final class JfrHotMethods {

    public static void main(String[] args) throws Exception {
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        String filter = args.length > 2 ? args[2] : null;
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> total = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            String type = e.getEventType().getName();
            if (!type.equals("jdk.ExecutionSample")) { // Java code on CPU; threads idle in native code are not counted
                continue;
            }
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            String thread = e.getThread("sampledThread") != null ? e.getThread("sampledThread").getJavaName() : "?";
            threads.merge(thread == null ? "?" : thread.replaceAll("-\\d+$", "-N"), 1, Integer::sum);
            List<RecordedFrame> frames = st.getFrames();
            self.merge(name(frames.get(0)), 1, Integer::sum);
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (RecordedFrame f : frames) {
                String n = name(f);
                if (seen.add(n)) {
                    total.merge(n, 1, Integer::sum);
                }
            }
        }
        System.out.println(samples + " samples");
        print("threads", threads, samples, top, null);
        print("self (top frame)", self, samples, top, null);
        print("total (on stack)", total, samples, top, filter);
    }

    private static void print(String title, Map<String, Integer> m, int samples, int top, String filter) {
        System.out.println("== " + title + (filter == null ? "" : " [" + filter + "*]"));
        m.entrySet().stream().filter(e -> filter == null || e.getKey().startsWith(filter))
                .sorted((x, y) -> y.getValue() - x.getValue()).limit(top)
                .forEach(e -> System.out.printf("%6.2f%%  %s%n", 100.0 * e.getValue() / samples, e.getKey()));
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
