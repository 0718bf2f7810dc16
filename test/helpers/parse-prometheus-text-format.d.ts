/** The Prometheus text-format parser the metrics tests check our exposition with (it ships no types). */
declare module 'parse-prometheus-text-format' {
  /** Parses exposition text into metric families; throws on text that is not the format. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
