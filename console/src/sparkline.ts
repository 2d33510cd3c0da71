/** A tiny inline SVG line chart of the last values; the scale runs from 0 to the largest. */

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 80;
const HEIGHT = 22;

export function sparkline(
  values: readonly number[],
  className: string,
  title: string,
): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  const label = document.createElementNS(SVG, "title");
  label.textContent = title;
  svg.append(label);
  if (values.length >= 2) {
    const max = Math.max(...values) || 1;
    const step = WIDTH / (values.length - 1);
    const points = values.map(
      (value, i) =>
        `${(i * step).toFixed(1)},${(HEIGHT - 1 - (value / max) * (HEIGHT - 3)).toFixed(1)}`,
    );
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke-width", "1.5");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    line.setAttribute("class", className);
    svg.append(line);
  }
  return svg;
}
