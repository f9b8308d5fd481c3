/**
 * One part of the page that fails to draw says so and leaves the rest alone: a render error (a
 * chart given data it cannot draw) would otherwise unmount the whole app and leave the page blank
 * while training goes on unseen. The run lives in the worker and the store, not in the views, so
 * nothing of it is lost; "Draw it again" retries once the data has moved on.
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** What the part is, in words ("Training curves and the three phases"). */
  what: string;
  children: ReactNode;
}

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`grokscope: "${this.props.what}" failed to draw`, error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="notice warning section-error" role="alert" data-testid="section-error">
        <p>
          <strong>{this.props.what}</strong> could not be drawn ({error.message.slice(0, 200)}). The rest of the page and the run go on.
        </p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          Draw it again
        </button>
      </div>
    );
  }
}
