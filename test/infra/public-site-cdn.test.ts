/**
 * The public site on AWS (infra/stack.ts addWebsite): the site bucket stays private behind CloudFront with origin
 * access control, CloudFront answers as the local site server does (index document, 404 page, GET and HEAD, HTTPS
 * only), and its response headers policy carries exactly the catalogue's security headers.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets, siteSecurityHeaders, siteSecurityHeaderValues } from '../../infra/catalogue.js';
import { hubCatalogue } from '../../infra/stack.js';
import { logicalIdOf, refersTo, statementsOfDocument, synthesise, SYNTH_TIMEOUT, type Synthesised } from './synth.js';

type Json = any;

const websites = Object.entries(hubCatalogue.buckets).filter(([, b]) => b.website);

let synth: Synthesised;
let resources: Record<string, Json>;
let withDomain: Synthesised | undefined;

beforeAll(() => {
  synth = synthesise();
  resources = synth.resources;
}, SYNTH_TIMEOUT);
afterAll(() => {
  synth?.dispose();
  withDomain?.dispose();
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const distributionOf = (name: string) => resources[logicalIdOf(synth.stack, synth.stack.distributions[name]!)]!.Properties.DistributionConfig;
const bucketId = (name: string) => logicalIdOf(synth.stack, synth.stack.buckets[name]!);

describe('the public site on AWS', () => {
  it('the catalogue has the site bucket as its one website, and the stack one distribution for it', () => {
    expect(websites.map(([name]) => name)).toEqual(['site']);
    expect(ofType('AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(Object.keys(synth.stack.distributions)).toEqual(['site']);
  });

  it.each(websites)('%s: the bucket is not public: all public access blocked, ACLs disabled, no website endpoint, S3-managed keys', (name) => {
    const b = resources[bucketId(name)]!.Properties;
    expect(b.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(b.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(b.WebsiteConfiguration).toBeUndefined();
    expect(b.AccessControl).toBeUndefined();
    expect(b.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
  });

  it.each(websites)('%s: its policy allows CloudFront only, GetObject only, for this distribution only; and refuses requests without TLS 1.2', (name) => {
    const policy = ofType('AWS::S3::BucketPolicy').map(([, r]) => r).find((r) => refersTo(r.Properties.Bucket, bucketId(name)))!;
    const statements = statementsOfDocument(policy.Properties.PolicyDocument);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]!.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(allows[0]!.Action).toEqual(['s3:GetObject']);
    expect(JSON.stringify(allows[0]!.Resource)).toContain(bucketId(name));
    const distributionId = logicalIdOf(synth.stack, synth.stack.distributions[name]!);
    expect(refersTo(allows[0]!.Condition.StringEquals['AWS:SourceArn'], distributionId)).toBe(true);
    const denies = statements.filter((s) => s.Effect === 'Deny').map((s) => s.Condition);
    expect(denies).toEqual(expect.arrayContaining([{ Bool: { 'aws:SecureTransport': 'false' } }, { NumericLessThan: { 's3:TlsVersion': 1.2 } }]));
  });

  it.each(websites)('%s: the origin is the bucket through an origin access control that signs every request (SigV4)', (name) => {
    const config = distributionOf(name);
    expect(config.Origins).toHaveLength(1);
    const origin = config.Origins[0];
    expect(refersTo(origin.DomainName, bucketId(name))).toBe(true);
    expect(origin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    const oacs = ofType('AWS::CloudFront::OriginAccessControl');
    expect(oacs).toHaveLength(1);
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacs[0]![0], 'Id'] });
    expect(oacs[0]![1].Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
  });

  it.each(websites)('%s: / is the index document, a missing page (403 or 404 from S3) the not-found document with 404; HTTPS only, GET and HEAD only', (name, spec) => {
    const config = distributionOf(name);
    expect(config.DefaultRootObject).toBe(spec.website!.indexDocument);
    expect(config.CustomErrorResponses).toEqual(
      [403, 404].map((code) => ({ ErrorCode: code, ResponseCode: 404, ResponsePagePath: `/${spec.website!.notFoundDocument}`, ErrorCachingMinTTL: spec.website!.cacheSeconds })),
    );
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(config.CacheBehaviors).toBeUndefined();
    expect(config.Enabled).toBe(true);
  });

  it.each(websites)('%s: pages stay at the edge no longer than the catalogue’s cacheSeconds, keyed on the path alone', (name, spec) => {
    const config = distributionOf(name);
    const cachePolicy = resources[config.DefaultCacheBehavior.CachePolicyId.Ref]!.Properties.CachePolicyConfig;
    expect([cachePolicy.MinTTL, cachePolicy.DefaultTTL, cachePolicy.MaxTTL]).toEqual([0, spec.website!.cacheSeconds, spec.website!.cacheSeconds]);
    expect(cachePolicy.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      CookiesConfig: { CookieBehavior: 'none' },
      HeadersConfig: { HeaderBehavior: 'none' },
      QueryStringsConfig: { QueryStringBehavior: 'none' },
    });
  });

  it.each(websites)('%s: the response headers policy carries exactly the catalogue’s security headers, overriding the origin’s', (name) => {
    const config = distributionOf(name);
    const policyId = config.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref;
    expect(policyId).toBe(logicalIdOf(synth.stack, synth.stack.responseHeadersPolicies[name]!));
    const policy = resources[policyId]!.Properties.ResponseHeadersPolicyConfig;
    const hsts = siteSecurityHeaders.strictTransportSecurity;
    expect(policy.SecurityHeadersConfig).toEqual({
      ContentSecurityPolicy: { ContentSecurityPolicy: siteSecurityHeaders.contentSecurityPolicy, Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: hsts.maxAgeSeconds, IncludeSubdomains: hsts.includeSubdomains, Preload: hsts.preload, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: siteSecurityHeaders.frameOptions, Override: true },
      ReferrerPolicy: { ReferrerPolicy: siteSecurityHeaders.referrerPolicy, Override: true },
    });
    expect(policy.CustomHeadersConfig).toBeUndefined();
    expect(policy.CorsConfig).toBeUndefined();
    // The headers the local site server sends are these same values, header by header.
    expect(siteSecurityHeaderValues()).toEqual({
      'content-security-policy': policy.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy,
      'strict-transport-security': `max-age=${policy.SecurityHeadersConfig.StrictTransportSecurity.AccessControlMaxAgeSec}; includeSubDomains`,
      'x-content-type-options': 'nosniff',
      'x-frame-options': policy.SecurityHeadersConfig.FrameOptions.FrameOption,
      'referrer-policy': policy.SecurityHeadersConfig.ReferrerPolicy.ReferrerPolicy,
    });
  });

  it('the CSP allows nothing inline and nothing from elsewhere, and no framing', () => {
    const csp = siteSecurityHeaders.contentSecurityPolicy;
    expect(csp).toMatch(/(^|; )default-src 'self'(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it.each(websites)('%s: logs every request to the access-log bucket, which ACLs let CloudFront write; HTTP/2 and 3', (name) => {
    const config = distributionOf(name);
    expect(config.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.accessLogsBucket!), 'RegionalDomainName'] }, Prefix: `cloudfront/${name}/` });
    expect(resources[logicalIdOf(synth.stack, synth.stack.accessLogsBucket!)]!.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] });
    expect(config.HttpVersion).toBe('http2and3');
  });

  it.each(websites)('%s: exports the site’s address', (name, spec) => {
    const outputs = synth.template.toJSON().Outputs as Record<string, Json>;
    const url = JSON.stringify(outputs.SiteUrl.Value);
    expect(url).toContain(logicalIdOf(synth.stack, synth.stack.distributions[name]!));
    expect(url).toContain(`/${spec.website!.indexDocument}`);
  });

  it(
    'with siteDomainName and siteCertificateArn: answers on that name with the certificate and TLS 1.2 at least',
    () => {
      withDomain = synthesise({}, 'CreditHubDomain', { siteDomainName: 'xinyong.example.gov.cn', siteCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
      const distribution = Object.values(withDomain.resources).find((r: Json) => r.Type === 'AWS::CloudFront::Distribution') as Json;
      const config = distribution.Properties.DistributionConfig;
      expect(config.Aliases).toEqual(['xinyong.example.gov.cn']);
      expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc', MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
      // Nothing left to acknowledge about the viewer TLS policy then: cdk-nag finds it compliant.
      const found = new AwsSolutionsChecks().validateScope(withDomain.stack).violations.map((v) => v.ruleName);
      expect(found).not.toContain('AwsSolutions-CFR4');
    },
    SYNTH_TIMEOUT,
  );
});

describe('the site bucket in the catalogue', () => {
  it('is served from index.html with a 404.html page', () => {
    expect(buckets.site.website).toMatchObject({ indexDocument: 'index.html', notFoundDocument: '404.html' });
  });
});
