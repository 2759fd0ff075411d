<?php

declare(strict_types=1);

namespace Bearer;

/**
 * A failure reported by the library as RFC 9457 problem details.
 *
 * The message is "title: detail". getCode() and getBearerStatus() give the
 * library's status number (see Status), getStatus() the HTTP-like status of
 * the problem. The library scrubs the client secret before the problem
 * leaves it, so nothing here holds the secret.
 */
final class ProblemException extends BearerException
{
    /**
     * @param array<string, mixed> $extensions
     */
    public function __construct(
        private readonly string $type,
        private readonly string $title,
        private readonly int $status,
        private readonly string $detail,
        private readonly string $instance,
        private readonly array $extensions,
        int $bearerStatus,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($title . ': ' . $detail, $bearerStatus, $previous);
    }

    /**
     * Builds the exception from the problem JSON the library wrote. A missing
     * or unreadable problem still yields an exception with the status number,
     * since an unknown failure must never pass as success.
     *
     * @internal
     */
    public static function fromJson(?string $json, int $bearerStatus): self
    {
        $p = null;
        if ($json !== null) {
            try {
                $p = json_decode($json, true, 64, JSON_THROW_ON_ERROR);
            } catch (\JsonException) {
                $p = null;
            }
        }
        if (!is_array($p)) {
            return new self(
                'urn:bearer:problem:internal',
                'No problem details',
                500,
                sprintf('the library failed with status %d but wrote no readable problem', $bearerStatus),
                '',
                [],
                $bearerStatus,
            );
        }
        $ext = $p['extensions'] ?? [];

        return new self(
            (string) ($p['type'] ?? 'about:blank'),
            (string) ($p['title'] ?? ''),
            (int) ($p['status'] ?? 0),
            (string) ($p['detail'] ?? ''),
            (string) ($p['instance'] ?? ''),
            is_array($ext) ? $ext : [],
            $bearerStatus,
        );
    }

    /** The problem type, a URN such as "urn:bearer:problem:unauthorized" or the server's own URI. */
    public function getType(): string
    {
        return $this->type;
    }

    public function getTitle(): string
    {
        return $this->title;
    }

    /** The HTTP-like status of the problem (401, 429, 400 for configuration errors, ...). */
    public function getStatus(): int
    {
        return $this->status;
    }

    public function getDetail(): string
    {
        return $this->detail;
    }

    /** The token endpoint (without query) or a JSON pointer such as "#/client_secret". */
    public function getInstance(): string
    {
        return $this->instance;
    }

    /**
     * Extra members: upstream_status, error, error_description, retry_after, key, ...
     *
     * @return array<string, mixed>
     */
    public function getExtensions(): array
    {
        return $this->extensions;
    }

    /** The library's status number (a Status constant); the same as getCode(). */
    public function getBearerStatus(): int
    {
        return (int) $this->getCode();
    }

    /**
     * The whole problem as the library wrote it.
     *
     * @return array{type: string, title: string, status: int, detail: string, instance: string, extensions: array<string, mixed>}
     */
    public function getProblem(): array
    {
        return [
            'type' => $this->type,
            'title' => $this->title,
            'status' => $this->status,
            'detail' => $this->detail,
            'instance' => $this->instance,
            'extensions' => $this->extensions,
        ];
    }
}
